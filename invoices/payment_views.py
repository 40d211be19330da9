"""Staff payment pages (record, list, CSV, payment page, receipt, refund, reversal) and the
client's own payments in the portal. Thin: check permission, call one domain function,
message, redirect."""

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clients.models import Client
from cms_project.money import format_money
from cms_project.pagination import KnownCountPaginator
from staff.permissions import client_required, workspace_required

from .allocation import PaymentError, refund_credit, reverse_payment
from .models import Invoice, Payment
from .payment_entry import record_staff_payment
from .payment_forms import (
    PICK_PREFIX,
    ChooseClientForm,
    PaymentFilterForm,
    PaymentForm,
    RefundForm,
    ReverseForm,
    with_default_period,
)
from .payment_queries import (
    DEFAULT_PAYMENT_SORT,
    open_invoices_of,
    payment_allocations,
    payment_totals,
    payments_for_client_user,
    search_payments,
)
from .receipts import ensure_receipt, resend_receipt
from .views import _serve_pdf

PAGE_SIZE = 50


def _get_payment(pk: int) -> Payment:
    return get_object_or_404(Payment.objects.select_related("client", "recorded_by"), pk=pk)


def _add_payment_error(form, exc: PaymentError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- Record a payment ------------------------------------------------------------------------
def _chosen_client(request) -> tuple[ChooseClientForm, Client | None]:
    """The client comes from the query string (?client=<account number>), so the same page
    serves the client page's link, the invoice page's link and the general entry."""
    chooser = ChooseClientForm(request.GET if "client" in request.GET else None)
    if not chooser.is_valid():
        return chooser, None
    number = chooser.cleaned_data["client"].strip()
    client = Client.objects.filter(account_number__iexact=number).first()
    if client is None:
        chooser.add_error("client", f"No client has the account number {number}.")
    return chooser, client


def _invoice_from_query(request, client: Client) -> Invoice | None:
    raw = request.GET.get("invoice", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    # Another client's invoice in the link is simply ignored (nothing revealed).
    return Invoice.objects.filter(pk=int(raw), client=client).exclude(status="draft").first()


@workspace_required
def payment_create(request):
    chooser, client = _chosen_client(request)
    if client is None:
        return render(request, "invoices/payments/payment_choose_client.html", {"form": chooser})
    invoice = _invoice_from_query(request, client)
    initial = {}
    if invoice is not None and invoice.is_open:
        initial["amount"] = f"{invoice.balance:.2f}"
    form = PaymentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = record_staff_payment(
                client=client,
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data["reference"],
                notes=data["notes"],
                card_brand=data["card_brand"],
                card_last4=data["card_last4"],
                picks=form.typed_picks(),
                for_invoice=invoice,
                recorded_by=request.user,
            )
        except PaymentError as exc:
            _add_payment_error(form, exc)
        else:
            messages.success(
                request,
                f"Payment of {format_money(payment.amount, payment.currency)} recorded: "
                f"receipt {payment.number}.",
            )
            return redirect(payment)
    open_invoices = open_invoices_of(client)
    typed = form.typed_picks() if form.is_bound else {}
    return render(
        request,
        "invoices/payments/payment_form.html",
        {
            "form": form,
            "client": client,
            "invoice": invoice,
            "rows": [(i, typed.get(str(i.pk), ""), f"{PICK_PREFIX}{i.pk}") for i in open_invoices],
        },
        status=400 if form.errors else 200,
    )


# --- List and CSV ----------------------------------------------------------------------------
def _filtered(request):
    query, defaulted = with_default_period(request.GET, today=timezone.localdate())
    form = PaymentFilterForm(query)
    filters = form.cleaned_data if form.is_valid() else {}
    sort = filters.get("sort") or DEFAULT_PAYMENT_SORT
    payments = search_payments(
        client=(filters.get("client") or "").strip(),
        method=filters.get("method", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        min_amount=filters.get("min_amount"),
        max_amount=filters.get("max_amount"),
        has_credit=filters.get("has_credit", False),
        sort=sort,
    )
    return form, payments, sort, query, defaulted


@workspace_required
def payment_list(request):
    form, payments, sort, query, defaulted = _filtered(request)
    totals = payment_totals(payments)
    # The totals query counts the rows already: no second COUNT for the paginator.
    paginator = KnownCountPaginator(payments, PAGE_SIZE, count=totals.count)
    page = paginator.get_page(request.GET.get("page"))
    query = query.copy()
    query.pop("page", None)
    export_query = query.urlencode()
    query.pop("sort", None)
    return render(
        request,
        "invoices/payments/payment_list.html",
        {
            "form": form,
            "page": page,
            "sort": sort,
            "base_query": query.urlencode(),
            "export_query": export_query,
            "default_period": defaulted,
            "totals": totals,
        },
    )


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    "receipt", "received on", "client account", "client", "method", "reference", "currency",
    "amount", "allocated", "refunded", "unallocated credit", "card", "recorded by",
]  # fmt: skip


def _csv_rows(payments):
    yield CSV_HEADER
    for p in payments.select_related("recorded_by").iterator(chunk_size=2000):
        yield [
            p.number,
            p.received_on,
            p.client.account_number,
            p.client.display_name,
            p.get_method_display(),
            p.reference,
            p.currency,
            p.amount,
            p.amount_allocated,
            p.amount_refunded,
            p.unallocated,
            f"{p.card_brand} {p.card_last4}".strip(),
            p.recorded_by.get_full_name() if p.recorded_by else "",
        ]


@workspace_required
def payment_export(request):
    payments = _filtered(request)[1]
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(payments)), content_type="text/csv"
    )
    today = timezone.localdate()
    response["Content-Disposition"] = f'attachment; filename="payments-{today:%Y-%m-%d}.csv"'
    return response


# --- One payment -----------------------------------------------------------------------------
def _detail(request, payment: Payment, *, refund_form=None, reverse_form=None, status=200):
    refunds = list(payment.refunds.select_related("created_by"))
    return render(
        request,
        "invoices/payments/payment_detail.html",
        {
            "payment": payment,
            "allocations": payment_allocations(payment),
            "refunds": refunds,
            "reversed": any(r.kind == r.Kind.REVERSAL for r in refunds),
            "refund_form": refund_form or RefundForm(initial={"amount": payment.unallocated}),
            "reverse_form": reverse_form or ReverseForm(),
        },
        status=status,
    )


@workspace_required
@never_cache
def payment_detail(request, pk: int):
    return _detail(request, _get_payment(pk))


@workspace_required
@never_cache
def payment_receipt(request, pk: int):
    payment = ensure_receipt(_get_payment(pk))
    return _serve_pdf(
        payment.receipt_path, payment.receipt_filename, inline=bool(request.GET.get("view"))
    )


@workspace_required
@require_POST
def payment_send_receipt(request, pk: int):
    payment = _get_payment(pk)
    sent = resend_receipt(payment=payment, requested_by=request.user)
    if sent:
        to = ", ".join(d.to for d in sent)
        messages.success(request, f"Receipt {payment.number} was queued to {to}.")
    else:
        messages.error(
            request,
            f"{payment.client.display_name} has no email address, no SMS consent, "
            "or has opted out of SMS: nothing was sent.",
        )
    return redirect(payment)


@workspace_required
@require_POST
def payment_refund(request, pk: int):
    payment = _get_payment(pk)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            refund = refund_credit(
                payment=payment,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except PaymentError as exc:
            _add_payment_error(form, exc)
        else:
            messages.success(
                request, f"{format_money(refund.amount, payment.currency)} refunded to the client."
            )
            return redirect(payment)
    return _detail(request, payment, refund_form=form, status=400)


@workspace_required
@require_POST
def payment_reverse(request, pk: int):
    payment = _get_payment(pk)
    form = ReverseForm(request.POST)
    if form.is_valid():
        try:
            reverse_payment(payment=payment, reason=form.cleaned_data["reason"], by=request.user)
        except PaymentError as exc:
            _add_payment_error(form, exc)
        else:
            messages.success(
                request, f"Payment {payment.number} was reversed; the invoices it paid reopened."
            )
            return redirect(payment)
    return _detail(request, payment, reverse_form=form, status=400)


# --- Portal ----------------------------------------------------------------------------------
@client_required
@never_cache
def portal_payment_list(request):
    payments = payments_for_client_user(request.user).order_by("-received_on", "-pk")
    page = Paginator(payments, 25).get_page(request.GET.get("page"))
    return render(request, "invoices/portal/payment_list.html", {"page": page})


@client_required
@never_cache
def portal_payment_receipt(request, pk: int):
    # Someone else's payment is a 404: its existence is not revealed.
    payment = ensure_receipt(get_object_or_404(payments_for_client_user(request.user), pk=pk))
    return _serve_pdf(
        payment.receipt_path, payment.receipt_filename, inline=bool(request.GET.get("view"))
    )
