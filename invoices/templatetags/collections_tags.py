"""`{% load collections_tags %}`: the collections fragments other pages include — the client
page's reminders/suspension card (the clients app never imports invoices, GUIDE §3) and the
invoice page's reminders card."""

from django import template
from django.utils import timezone

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
