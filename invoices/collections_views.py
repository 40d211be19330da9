"""Staff pages of collections: late payers (aging) with its CSV, reminders sent by hand, and
pausing/resuming reminders for a client or an invoice. Thin: permission, one function,
message, redirect."""

import csv
from datetime import timedelta

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.models import Client
from cms_project.redirects import safe_next_url
from staff.permissions import workspace_required

from . import aging_rows
from .aging import BUCKETS, late_payers, late_payers_page, with_clients
from .collections_forms import LatePayersFilterForm, PauseForm
from .models import Invoice
from .reminders import (
    ReminderError,
    pause_reminders,
    resume_reminders,
    send_client_reminder,
    send_manual_reminder,
)

PAGE_SIZE = 50


def _late_payers(request):
    form = LatePayersFilterForm(request.GET or None)
    filters = form.filters()
    today = timezone.localdate()
    # The kept aging rows when they are today's; else age the invoices (exact, slower) and
    # have the queue age the rows for today.
    from_rows = aging_rows.are_current(today)
    if not from_rows:
        aging_rows.schedule_rebuild()
    rows = late_payers(today=today, from_rows=from_rows, **filters)
    return form, rows, filters["sort"], today


@workspace_required
def late_payers_list(request):
    form, rows, sort, today = _late_payers(request)
    page, summary = late_payers_page(rows, request.GET.get("page"), per_page=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    return render(
        request,
        "invoices/late_payers.html",
        {
            "form": form,
            "page": page,
            "totals": summary,
            "sort": sort,
            "base_query": query.urlencode(),
            "today": today,
            "tomorrow": today + timedelta(days=1),
            "buckets": BUCKETS,
        },
    )


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "account", "client", "email", "phone", "segment", "current", "1-30 days", "31-60 days",
    "61-90 days", "90+ days", "total overdue", "oldest due date", "last payment",
    "last reminder", "reminders paused until",
]  # fmt: skip


def _chunks(rows, size: int = 2000):
    # Keyset-free chunks of the grouped rows: the sort is total (client_id breaks ties).
    start = 0
    while True:
        chunk = with_clients(rows[start : start + size])
        if not chunk:
            return
        yield chunk
        start += size


def _csv_rows(rows):
    yield CSV_HEADER
    tz = timezone.get_current_timezone()
    for c in (client for chunk in _chunks(rows) for client in chunk):
        yield [
            c.account_number,
            c.display_name,
            c.email,
            c.phone_text,
            c.get_segment_display(),
            c.b_current,
            c.b_1_30,
            c.b_31_60,
            c.b_61_90,
            c.b_90_plus,
            c.overdue,
            c.oldest_due or "",
            c.last_payment_date or "",
            c.last_reminder_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            if c.last_reminder_at
            else "",
            c.reminders_paused_until or "",
        ]


@workspace_required
def late_payers_export(request):
    """The same rows as the page, with its filters and sort, every page."""
    _, rows, _, today = _late_payers(request)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(rows)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="late-payers-{today:%Y-%m-%d}.csv"'
    return response


def _back(request, default: str):
    return redirect(safe_next_url(request, request.POST.get("next", "")) or default)


# --- A client ----------------------------------------------------------------------------------
@workspace_required
@require_POST
def client_remind(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    try:
        reminder = send_client_reminder(client=client, by=request.user, request=request)
    except ReminderError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Reminder about invoice {reminder.invoice} sent to {client.display_name} "
            f"({reminder.channels_display}).",
        )
    return _back(request, reverse("clients:client_detail", args=[pk]))


def _pause_page(request, *, client=None, invoice=None):
    form = PauseForm(request.POST or None)
    default = (
        reverse("clients:client_detail", args=[client.pk])
        if client
        else reverse("invoices:detail", args=[invoice.pk])
    )
    if request.method == "POST" and form.is_valid():
        try:
            until = pause_reminders(
                client=client,
                invoice=invoice,
                until=form.cleaned_data["until"],
                by=request.user,
                request=request,
            )
        except ReminderError as exc:
            form.add_error(exc.field, exc.message)
        else:
            what = client.display_name if client else f"invoice {invoice}"
            messages.success(request, f"Reminders for {what} paused until {until:%b %-d, %Y}.")
            return _back(request, default)
    return render(
        request,
        "invoices/reminder_pause.html",
        {
            "form": form,
            "client": client,
            "invoice": invoice,
            "next": safe_next_url(request, request.POST.get("next") or request.GET.get("next", ""))
            or default,
        },
        status=400 if request.method == "POST" else 200,
    )


@workspace_required
def client_reminders_pause(request, pk: int):
    return _pause_page(request, client=get_object_or_404(Client, pk=pk))


@workspace_required
@require_POST
def client_reminders_resume(request, pk: int):
    client = get_object_or_404(Client, pk=pk)
    try:
        resume_reminders(client=client, by=request.user, request=request)
    except ReminderError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reminders for {client.display_name} resumed.")
    return _back(request, reverse("clients:client_detail", args=[pk]))


# --- An invoice --------------------------------------------------------------------------------
def _issued_invoice(pk: int) -> Invoice:
    return get_object_or_404(
        Invoice.objects.exclude(status=Invoice.Status.DRAFT).select_related("client"), pk=pk
    )


@workspace_required
@require_POST
def invoice_remind(request, pk: int):
    invoice = _issued_invoice(pk)
    try:
        reminder = send_manual_reminder(invoice=invoice, by=request.user, request=request)
    except ReminderError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reminder sent ({reminder.channels_display}).")
    return _back(request, reverse("invoices:detail", args=[pk]))


@workspace_required
def invoice_reminders_pause(request, pk: int):
    return _pause_page(request, invoice=_issued_invoice(pk))


@workspace_required
@require_POST
def invoice_reminders_resume(request, pk: int):
    invoice = _issued_invoice(pk)
    try:
        resume_reminders(invoice=invoice, by=request.user, request=request)
    except ReminderError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Reminders for invoice {invoice} resumed.")
    return _back(request, reverse("invoices:detail", args=[pk]))
