"""`{% load collections_tags %}`: the collections fragments other pages include — the client
page's reminders/suspension card (the clients app never imports invoices, GUIDE §3) and the
invoice page's reminders card — and the late payers table's rows."""

from datetime import timedelta
from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from cms_project.money import format_money

register = template.Library()


@register.inclusion_tag("invoices/_client_collections.html", takes_context=True)
def client_collections(context, client, invoice_summary=None) -> dict:
    """Two queries: open suspension, reminders. The overdue figures come from the page's
    `{% client_invoice_summary %}` when it passes it (the client page does), otherwise from
    a summary made here."""
    from ..queries import client_invoice_summary
    from ..reminders import reminders_of_client
    from ..suspension import open_suspension

    today = timezone.localdate()
    if invoice_summary is None:
        invoice_summary = client_invoice_summary(client=client)
    return {
        "client": client,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "today": today,
        "paused": bool(client.reminders_paused_until and client.reminders_paused_until > today),
        "suspension": open_suspension(client),
        "overdue_invoices": invoice_summary.overdue_invoices,
        "overdue_balance": invoice_summary.overdue_balance,
        "reminders": list(reminders_of_client(client, limit=10)),
    }


@register.inclusion_tag("invoices/_invoice_reminders.html", takes_context=True)
def invoice_reminders(context, invoice) -> dict:
    from ..reminders import reminders_of_invoice

    today = timezone.localdate()
    until = invoice.reminders_paused_until
    client_until = invoice.client.reminders_paused_until
    return {
        "invoice": invoice,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "paused": bool(until and until > today),
        "client_paused": bool(client_until and client_until > today),
        "reminders": list(reminders_of_invoice(invoice)[:50]),
    }


@register.simple_tag(takes_context=True)
def late_payer_rows(context, clients) -> str:
    """The late payers table's <tr>s (a page of `aging.with_clients`), written out here rather
    than in the template: 50 rows of ~40 values and two forms each took ~30 ms a page in the
    template engine, the larger part of the page (GUIDE §5); this takes ~3 ms. Every value
    is escaped; the markup is the one the page had (the tests and the browser journeys read
    it)."""
    from clients.validation import phone_for_display

    request = context["request"]
    today = context["today"]
    csrf = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(context["csrf_token"])}">'
    )
    hidden = f'{csrf}<input type="hidden" name="next" value="{escape(request.get_full_path())}">'
    tomorrow = (today + timedelta(days=1)).isoformat()
    detail, remind, pause, resume = (
        _url_of_each(name)
        for name in (
            "clients:client_detail",
            "invoices:client_remind",
            "invoices:client_reminders_pause",
            "invoices:client_reminders_resume",
        )
    )
    rows = []
    for c in clients:
        name = escape(c.display_name)
        contact = ""
        if c.email:
            email = escape(c.email)
            contact = f'<a href="mailto:{email}">{email}</a>'
        phone = phone_for_display(c.phone_text)  # the stored text (aging.with_clients)
        if phone:
            sep = " · " if c.email else ""
            contact += f'<span class="text-nowrap">{sep}{escape(phone)}</span>'
        figures = "".join(
            f'<td class="text-end text-nowrap{" fw-semibold" if key == "overdue" else ""}" '
            f'data-figure="{key}">{format_money(getattr(c, attr))}</td>'
            for key, attr in _FIGURE_CELLS
        )
        paused = bool(c.reminders_paused_until and c.reminders_paused_until > today)
        reminders = (
            f"Last {_day(timezone.localtime(c.last_reminder_at).date())}"
            if c.last_reminder_at
            else "None sent"
        )
        if paused:
            reminders += (
                f'<div class="text-warning-emphasis">Paused until '
                f"{_day(c.reminders_paused_until)}</div>"
            )
            toggle = (
                f'<form method="post" action="{resume(c.pk)}">'
                f'{hidden}<button class="btn btn-sm btn-outline-secondary text-nowrap" type="submit">'
                f'Resume<span class="visually-hidden"> reminders for {name}</span></button></form>'
            )
        else:
            toggle = (
                f'<form method="post" action="{pause(c.pk)}" '
                f'class="d-flex flex-wrap gap-1">{hidden}'
                f'<label class="visually-hidden" for="pause-{c.pk}">Pause reminders for {name} '
                f"until</label>"
                f'<input class="form-control form-control-sm pause-date" type="date" '
                f'id="pause-{c.pk}" name="until" min="{tomorrow}" required>'
                f'<button class="btn btn-sm btn-outline-secondary" type="submit">Pause'
                f'<span class="visually-hidden"> reminders for {name}</span></button></form>'
            )
        rows.append(
            f'<tr data-client="{escape(c.account_number)}">'
            f'<th scope="row" class="fw-normal"><a href="{detail(c.pk)}">'
            f'{name}</a><div class="small text-body-secondary">{escape(c.account_number)} · '
            f"{escape(c.get_segment_display())}</div>"
            f'<div class="small text-break">{contact}</div></th>'
            f"{figures}"
            f'<td class="text-nowrap">{_day(c.oldest_due)}</td>'
            f'<td class="text-nowrap">{_day(c.last_payment_date) or "—"}</td>'
            f'<td class="small">{reminders}</td>'
            f'<td><div class="d-flex flex-column gap-1">'
            f'<form method="post" action="{remind(c.pk)}">'
            f'{hidden}<button class="btn btn-sm btn-outline-primary text-nowrap" type="submit">'
            f'Send reminder<span class="visually-hidden"> to {name}</span></button></form>'
            f"{toggle}</div></td></tr>"
        )
    if not rows:
        return mark_safe(
            '<tr><td colspan="11" class="text-center text-body-secondary">'
            "No client with an overdue balance matches.</td></tr>"
        )
    return mark_safe("\n".join(rows))


_FIGURE_CELLS = (
    ("current", "b_current"),
    ("1_30", "b_1_30"),
    ("31_60", "b_31_60"),
    ("61_90", "b_61_90"),
    ("90_plus", "b_90_plus"),
    ("overdue", "overdue"),
)


def _day(value) -> str:
    """A date as `|date:"M j, Y"` says it ("" for none)."""
    return _day_in(value, get_language()) if value else ""


@lru_cache(maxsize=4096)
def _day_in(value, language: str) -> str:
    # Cached: a page shows few distinct days, and localized formatting costs ~25 µs a call.
    return date_format(value, "M j, Y")


_PLACEHOLDER = 2_147_483_647


def _url_of_each(name: str):
    """`reverse(name, args=[pk])` for many pks, reversed once: ~40 µs saved per link."""
    before, after = reverse(name, args=[_PLACEHOLDER]).split(str(_PLACEHOLDER))
    return lambda pk: f"{before}{int(pk)}{after}"
