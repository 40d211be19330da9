"""Reads of payments for pages: the staff list (filters, sorting, totals), a client's money view,
an invoice's payments, a client's own payments in the portal."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from clients.models import Client
from cms_project.money import CENT, ZERO, money_from_db

from .ledger import LedgerFigures, figures_of
from .models import Allocation, Invoice, Payment

PAYMENT_SORTS = {
    "received_on": ("received_on", "pk"),
    "-received_on": ("-received_on", "-pk"),
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "client": ("client__name", "pk"),
    "-client": ("-client__name", "-pk"),
    "amount": ("amount", "pk"),
    "-amount": ("-amount", "-pk"),
    "unallocated": ("unallocated", "pk"),
    "-unallocated": ("-unallocated", "-pk"),
}
DEFAULT_PAYMENT_SORT = "-received_on"


def search_payments(
    *,
    client: str = "",
    method: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    has_credit: bool = False,
    sort: str = DEFAULT_PAYMENT_SORT,
) -> QuerySet[Payment]:
    payments = Payment.objects.select_related("client")
    if client:
        payments = payments.filter(
            Q(client__account_number__iexact=client)
            | Q(client__name__icontains=client)
            | Q(client__company_name__icontains=client)
            | Q(number__iexact=client)
            | Q(reference__iexact=client)
        )
    if method:
        payments = payments.filter(method=method)
    if date_from:
        payments = payments.filter(received_on__gte=date_from)
    if date_to:
        payments = payments.filter(received_on__lte=date_to)
    if min_amount is not None:
        payments = payments.filter(amount__gte=min_amount)
    if max_amount is not None:
        payments = payments.filter(amount__lte=max_amount)
    if has_credit:
        payments = payments.filter(unallocated__gte=CENT)
    return payments.order_by(*PAYMENT_SORTS.get(sort, PAYMENT_SORTS[DEFAULT_PAYMENT_SORT]))


@dataclass(frozen=True)
class PaymentTotals:
    count: int
    amount: Decimal
    allocated: Decimal
    refunded: Decimal
    unallocated: Decimal


def payment_totals(payments: QuerySet[Payment]) -> PaymentTotals:
    """Sums of the filtered set, one query (the list's count comes from here too)."""
    row = payments.order_by().aggregate(
        count=Count("pk"),
        amount=Coalesce(Sum("amount"), ZERO),
        allocated=Coalesce(Sum("amount_allocated"), ZERO),
        refunded=Coalesce(Sum("amount_refunded"), ZERO),
        unallocated=Coalesce(Sum("unallocated"), ZERO),
    )
    return PaymentTotals(
        count=row["count"],
        amount=money_from_db(row["amount"]),
        allocated=money_from_db(row["allocated"]),
        refunded=money_from_db(row["refunded"]),
        unallocated=money_from_db(row["unallocated"]),
    )


@dataclass(frozen=True)
class ClientMoney:
    figures: LedgerFigures
    payments: list[Payment]
    more: bool


def client_money(*, client: Client, limit: int = 5) -> ClientMoney:
    """The money view of the client page: ledger figures and the latest payments (1 query; 2
    for a client not loaded with the ledger figures annotated)."""
    payments = list(client.payments.order_by("-received_on", "-pk")[: limit + 1])
    return ClientMoney(
        figures=figures_of(client), payments=payments[:limit], more=len(payments) > limit
    )


def payment_allocations(payment: Payment) -> list[Allocation]:
    return list(payment.allocations.select_related("invoice").order_by("pk"))


def invoice_allocations(invoice: Invoice) -> list[Allocation]:
    """What paid an invoice: payments and credit-note credit, reversals included."""
    return list(
        invoice.allocations.select_related("payment", "credit_note").order_by("created_at", "pk")
    )


def open_invoices_of(client: Client) -> list[Invoice]:
    """The invoices staff may pick for a payment, oldest due first (as allocation does)."""
    return list(
        Invoice.objects.filter(
            client=client,
            status__in=[*Invoice.OPEN_STATUSES, Invoice.Status.PAID],
            balance__gte=CENT,
        ).order_by("due_date", "issue_date", "pk")
    )


def payments_for_client_user(user) -> QuerySet[Payment]:
    """What a client sees: their own payments, never anyone else's."""
    return Payment.objects.filter(client__user=user)
