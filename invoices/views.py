"""Staff pages of invoices: list, invoice page, manual drafts, issuing, sending, credit notes,
PDFs and billing runs. Thin: check permission, call one domain function, message, redirect."""

import csv
from functools import partial

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cms_project.money import format_money
from cms_project.pagination import EstimatedCountPaginator
from staff.permissions import workspace_required

from . import sending
from .billing import issue_drafts_of_run, previous_month, start_run
from .credit_notes import create_credit_note, remaining_lines, void_invoice
from .drafts import create_draft, delete_draft, update_draft
from .forms import (
    BillingRunForm,
    CreditNoteForm,
    DraftForm,
    EmailInvoiceForm,
    InvoiceFilterForm,
    IssueForm,
    SmsInvoiceForm,
    VoidForm,
    line_formset,
)
from .issuing import InvoiceError, issue_invoice
from .models import BillingRun, CreditNote, Invoice
from .payment_queries import invoice_allocations
from .pdf import render_credit_note_pdf, render_invoice_pdf
from .queries import search_invoices

PAGE_SIZE = 50


def _get_invoice(pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("client"), pk=pk)


def _get_draft(pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("client"), pk=pk, status="draft")


# --- List ------------------------------------------------------------------------------------
def _filtered(request):
    form = InvoiceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    invoices = search_invoices(
        status=filters.get("status", ""),
        overdue=filters.get("overdue", False),
        client=(filters.get("client") or "").strip(),
        period=filters.get("period"),
        min_total=filters.get("min_total"),
        max_total=filters.get("max_total"),
        sort=filters.get("sort") or "-issue_date",
        issued_from=filters.get("issued_from"),
        issued_to=filters.get("issued_to"),
        open_only=filters.get("open", False),
    )
    return form, invoices, filters.get("sort") or "-issue_date"


@workspace_required
def invoice_list(request):
    form, invoices, sort = _filtered(request)
    page = EstimatedCountPaginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    return render(
        request,
        "invoices/invoice_list.html",
        {
            "form": form,
            "page": page,
            "sort": sort,
            "base_query": query.urlencode(),
            "today": timezone.localdate(),
        },
    )


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "number", "status", "overdue", "client account", "client", "period", "issue date",
    "due date", "currency", "net", "tax", "total", "paid", "credited", "balance",
]  # fmt: skip


def _csv_rows(invoices, today):
    yield CSV_HEADER
    # iterator(): rows stream from the database in chunks, so memory stays flat.
    for invoice in invoices.iterator(chunk_size=2000):
        yield [
            invoice.number or "(draft)",
            invoice.get_status_display(),
            "yes" if invoice.is_overdue_on(today) else "no",
            invoice.client.account_number,
            invoice.client_name or invoice.client.display_name,
            f"{invoice.period_year}-{invoice.period_month:02d}" if invoice.period_year else "",
            invoice.issue_date or "",
            invoice.due_date or "",
            invoice.currency,
            invoice.net,
            invoice.tax,
            invoice.total,
            invoice.amount_paid,
            invoice.amount_credited,
            invoice.balance,
        ]


@workspace_required
def invoice_export(request):
    _, invoices, _ = _filtered(request)
    writer = csv.writer(_Echo())
    today = timezone.localdate()
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(invoices, today)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="invoices-{today:%Y-%m-%d}.csv"'
    return response


# --- One invoice -----------------------------------------------------------------------------
@workspace_required
@never_cache
def invoice_detail(request, pk: int):
    invoice = _get_invoice(pk)
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "credit_notes": invoice.credit_notes.all(),
            "allocations": invoice_allocations(invoice),
            "can_credit": not invoice.is_draft and not invoice.fully_credited,
            "can_sms": sending.can_sms(invoice.client),
            "issue_form": IssueForm(),
            "void_form": VoidForm(),
        },
    )


def _serve_pdf(path: str, filename: str, *, inline: bool):
    try:
        handle = default_storage.open(path, "rb")
    except FileNotFoundError:
        raise Http404("The PDF is not available.") from None
    response = FileResponse(
        handle, as_attachment=not inline, filename=filename, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def invoice_pdf_response(request, invoice: Invoice):
    """Shared by staff and portal views, after their own permission checks."""
    if invoice.is_draft:
        raise Http404("Drafts have no PDF.")
    if not invoice.pdf_ready:
        # The background render has not run yet (busy worker): render it now, once.
        render_invoice_pdf(invoice_id=invoice.pk)
    return _serve_pdf(invoice.pdf_path, invoice.pdf_filename, inline=bool(request.GET.get("view")))


def credit_note_pdf_response(request, note: CreditNote):
    if not note.pdf_ready:
        render_credit_note_pdf(credit_note_id=note.pk)
    return _serve_pdf(note.pdf_path, note.pdf_filename, inline=bool(request.GET.get("view")))


@workspace_required
@never_cache
def invoice_pdf(request, pk: int):
    return invoice_pdf_response(request, _get_invoice(pk))


# --- Manual drafts ---------------------------------------------------------------------------
@workspace_required
def invoice_create(request):
    initial = {}
    if request.method == "GET" and request.GET.get("client"):
        initial["client"] = request.GET["client"]
    form = DraftForm(request.POST or None, initial=initial)
    formset = line_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        invoice = create_draft(
            client=form.cleaned_data["client"],
            lines=formset.line_data(),
            notes=form.cleaned_data["notes"],
            created_by=request.user,
        )
        messages.success(request, "Draft saved. Check it, then issue it.")
        return redirect(invoice)
    return render(request, "invoices/invoice_form.html", {"form": form, "formset": formset})


@workspace_required
def invoice_edit(request, pk: int):
    invoice = _get_invoice(pk)
    if not invoice.is_draft:
        messages.error(request, f"{invoice} is issued and can no longer be edited.")
        return redirect(invoice)
    form = DraftForm(
        request.POST or None, client_fixed=invoice.client, initial={"notes": invoice.notes}
    )
    formset = line_formset(request.POST or None, invoice=invoice)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            update_draft(
                invoice=invoice, lines=formset.line_data(), notes=form.cleaned_data["notes"]
            )
        except InvoiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Draft saved.")
        return redirect(invoice)
    return render(
        request,
        "invoices/invoice_form.html",
        {"form": form, "formset": formset, "invoice": invoice},
    )


@workspace_required
@require_POST
def invoice_delete(request, pk: int):
    invoice = _get_invoice(pk)
    try:
        delete_draft(invoice=invoice)
    except InvoiceError as exc:
        messages.error(request, str(exc))
        return redirect(invoice)
    messages.success(request, "The draft was deleted.")
    return redirect("invoices:list")


@workspace_required
@require_POST
def invoice_issue(request, pk: int):
    invoice = _get_invoice(pk)
    form = IssueForm(request.POST)
    notify = form.is_valid() and form.cleaned_data["notify"]
    try:
        issued = issue_invoice(
            invoice=invoice, issued_by=request.user, notify=notify, request=request
        )
    except InvoiceError as exc:
        messages.error(request, str(exc))
        return redirect(invoice)
    note = " and queued to the client" if notify else ""
    messages.success(request, f"Invoice {issued.number} was issued{note}.")
    return redirect(issued)


# --- Sending ---------------------------------------------------------------------------------
@workspace_required
def invoice_send_email(request, pk: int):
    invoice = _get_invoice(pk)
    if invoice.is_draft:
        messages.error(request, "Issue the invoice before sending it.")
        return redirect(invoice)
    if request.method == "POST":
        form = EmailInvoiceForm(request.POST)
    else:
        subject, body = sending.default_email(invoice)
        to = [invoice.client.email] if invoice.client.email else []
        form = EmailInvoiceForm(initial={"to": to, "subject": subject, "message": body})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        sending.email_invoice(
            invoice=invoice,
            to=data["to"],
            cc=data["cc"],
            bcc=data["bcc"],
            subject=data["subject"],
            body=data["message"],
            requested_by=request.user,
        )
        messages.success(
            request, f"Invoice {invoice.number} was queued to {', '.join(data['to'])}."
        )
        return redirect(invoice)
    return render(request, "invoices/send_email.html", {"invoice": invoice, "form": form})


@workspace_required
def invoice_send_sms(request, pk: int):
    invoice = _get_invoice(pk)
    client = invoice.client
    if invoice.is_draft or not sending.can_sms(client):
        messages.error(
            request,
            "Issue the invoice first."
            if invoice.is_draft
            else f"{client.display_name} has not agreed to SMS or has no mobile number.",
        )
        return redirect(invoice)
    form = SmsInvoiceForm(request.POST or None, initial={"message": sending.default_sms(invoice)})
    if request.method == "POST" and form.is_valid():
        delivery = sending.sms_invoice(
            invoice=invoice,
            to=str(client.phone),
            body=form.cleaned_data["message"],
            requested_by=request.user,
        )
        if delivery is None:
            messages.error(request, f"{client.phone} has opted out of SMS (STOP); nothing sent.")
        else:
            messages.success(request, f"The SMS to {client.phone} was queued.")
        return redirect(invoice)
    return render(request, "invoices/send_sms.html", {"invoice": invoice, "form": form})


# --- Credit notes ----------------------------------------------------------------------------
@workspace_required
def credit_note_create(request, pk: int):
    invoice = _get_invoice(pk)
    remaining = remaining_lines(invoice) if not invoice.is_draft else []
    if not remaining:
        messages.error(request, f"{invoice} has nothing left to credit.")
        return redirect(invoice)
    form = CreditNoteForm(request.POST or None, remaining=remaining)
    if request.method == "POST" and form.is_valid():
        try:
            note = create_credit_note(
                invoice=invoice,
                reason=form.cleaned_data["reason"],
                line_ids=form.cleaned_data["lines"],
                created_by=request.user,
                request=request,
            )
        except InvoiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Credit note {note.number} was issued.")
            return redirect(invoice)
    return render(
        request,
        "invoices/credit_note_form.html",
        {"invoice": invoice, "form": form, "remaining": remaining},
    )


@workspace_required
@require_POST
def invoice_void(request, pk: int):
    invoice = _get_invoice(pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the invoice is cancelled.")
        return redirect(invoice)
    try:
        note = void_invoice(
            invoice=invoice,
            reason=form.cleaned_data["reason"],
            created_by=request.user,
            request=request,
        )
    except InvoiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{invoice} was voided by credit note {note.number}.")
    return redirect(invoice)


@workspace_required
@never_cache
def credit_note_detail(request, pk: int):
    note = get_object_or_404(CreditNote.objects.select_related("invoice", "client"), pk=pk)
    return render(
        request, "invoices/credit_note_detail.html", {"note": note, "lines": note.lines.all()}
    )


@workspace_required
@never_cache
def credit_note_pdf(request, pk: int):
    return credit_note_pdf_response(request, get_object_or_404(CreditNote, pk=pk))


@workspace_required
@require_POST
def credit_note_send(request, pk: int):
    note = get_object_or_404(CreditNote.objects.select_related("invoice", "client"), pk=pk)
    if sending.email_credit_note(credit_note=note, requested_by=request.user) is None:
        messages.error(request, f"{note.client.display_name} has no email address.")
    else:
        messages.success(request, f"Credit note {note.number} was queued to {note.client.email}.")
    return redirect(note)


# --- Billing runs ----------------------------------------------------------------------------
@workspace_required
def billing(request):
    year, month = previous_month()
    form = BillingRunForm(request.POST or None, initial={"period": (year, month)})
    if request.method == "POST" and form.is_valid():
        year, month = form.cleaned_data["period"]
        from .tasks import run_billing_task

        with transaction.atomic():
            run = start_run(year=year, month=month, started_by=request.user, request=request)
            # The task may run on another machine: it must find the run row committed.
            transaction.on_commit(partial(run_billing_task.delay, run.pk))
        messages.success(request, f"The billing run for {run.period_label} has started.")
        return redirect(run)
    runs = BillingRun.objects.select_related("started_by")[:20]
    return render(request, "invoices/billing.html", {"form": form, "runs": runs})


def _get_run(pk: int) -> BillingRun:
    return get_object_or_404(BillingRun.objects.select_related("started_by"), pk=pk)


@workspace_required
def billing_run(request, pk: int):
    run = _get_run(pk)
    drafts = run.invoices.filter(status=Invoice.Status.DRAFT).count()
    return render(
        request,
        "invoices/billing_run.html",
        {"run": run, "errors": run.errors.select_related("client")[:200], "drafts": drafts},
    )


@workspace_required
@never_cache
def billing_run_status(request, pk: int):
    run = _get_run(pk)
    return JsonResponse(
        {
            "status": run.status,
            "status_label": run.get_status_display(),
            "done": run.is_done,
            "percent": run.percent,
            "clients_total": run.clients_total,
            "clients_processed": run.clients_processed,
            "created": run.created_count,
            "skipped": run.skipped_count,
            "errors": run.error_count,
            "total_billed": str(run.total_billed),
            "total_billed_display": format_money(run.total_billed),
        }
    )


@workspace_required
@require_POST
def billing_run_issue_drafts(request, pk: int):
    run = _get_run(pk)
    try:
        count = issue_drafts_of_run(run=run, issued_by=request.user)
    except InvoiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{count} invoices were issued.")
    return redirect(run)
