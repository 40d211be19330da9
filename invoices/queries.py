"""Reads of invoices for pages: the staff list (filters, sorting), a client's invoices."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.models import Client
from cms_project.money import ZERO

from .models import CreditNote, Invoice

SORTS = {
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "client": ("client_name", "client__name", "pk"),
    "-client": ("-client_name", "-client__name", "-pk"),
    "issue_date": ("issue_date", "pk"),
    "-issue_date": ("-issue_date", "-pk"),
    "due_date": ("due_date", "pk"),
    "-due_date": ("-due_date", "-pk"),
    "total": ("total", "pk"),
    "-total": ("-total", "-pk"),
    "balance": ("balance", "pk"),
    "-balance": ("-balance", "-pk"),
}
DEFAULT_SORT = "-issue_date"


def search_invoices(
    *,
    status: str = "",
    overdue: bool = False,
    client: str = "",
    period: tuple[int, int] | None = None,
    min_total: Decimal | None = None,
    max_total: Decimal | None = None,
    sort: str = DEFAULT_SORT,
    issued_from=None,
    issued_to=None,
    open_only: bool = False,
) -> QuerySet[Invoice]:
    invoices = Invoice.objects.select_related("client")
    if status:
        invoices = invoices.filter(status=status)
    if overdue:
        invoices = invoices.overdue(timezone.localdate())
    if client:
        invoices = invoices.filter(
            Q(client__account_number__iexact=client)
            | Q(client__name__icontains=client)
            | Q(client__company_name__icontains=client)
            | Q(client_name__icontains=client)
            | Q(number__iexact=client)
        )
    if period:
        invoices = invoices.filter(period_year=period[0], period_month=period[1])
    if min_total is not None:
        invoices = invoices.filter(total__gte=min_total)
    if max_total is not None:
        invoices = invoices.filter(total__lte=max_total)
    # The dashboard's KPIs link here: invoiced in a period, what is still outstanding.
    if issued_from is not None:
        invoices = invoices.filter(issue_date__gte=issued_from)
    if issued_to is not None:
        invoices = invoices.filter(issue_date__lte=issued_to)
    if open_only:
        invoices = invoices.open().filter(balance__gt=0)
    return invoices.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


@dataclass(frozen=True)
class ClientInvoiceSummary:
    invoices: list[Invoice]
    more: bool
    open_balance: Decimal
    overdue_balance: Decimal
    overdue_invoices: int
    credit_notes: list[CreditNote]


def client_invoice_summary(*, client: Client, limit: int = 10) -> ClientInvoiceSummary:
    """The latest invoices, the open and overdue balance (overdue as Invoice.objects.overdue
    says), the latest credit notes: three queries."""
    invoices = list(client.invoices.order_by("-issue_date", "-pk")[: limit + 1])
    today = timezone.localdate()
    open_invoices = Invoice.objects.filter(client=client).open()
    overdue = Q(balance__gt=0, due_date__lt=today)
    figures = open_invoices.aggregate(
        open=Coalesce(Sum("balance"), ZERO),
        overdue=Coalesce(Sum("balance", filter=overdue), ZERO),
        overdue_invoices=Count("pk", filter=overdue),
    )
    return ClientInvoiceSummary(
        invoices=invoices[:limit],
        more=len(invoices) > limit,
        open_balance=figures["open"],
        overdue_balance=figures["overdue"],
        overdue_invoices=figures["overdue_invoices"],
        credit_notes=list(client.credit_notes.select_related("invoice")[:limit]),
    )


def invoices_for_client_user(user) -> QuerySet[Invoice]:
    """What a client sees: their own issued invoices, never drafts, never anyone else's."""
    return Invoice.objects.issued().filter(client__user=user)


def credit_notes_for_client_user(user) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(client__user=user).select_related("invoice")
