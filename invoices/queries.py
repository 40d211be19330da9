"""Reads of invoices for pages: the staff list (filters, sorting), a client's invoices."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum, Window
from django.utils import timezone

from clients.models import Client
from cms_project.money import money_from_db

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
    says) and the latest credit notes: two queries. The figures are window sums over all the
    client's invoices, computed before the LIMIT and carried on every row of the latest ones;
    a client without invoices has none to sum."""
    today = timezone.localdate()
    is_open = Q(status__in=Invoice.OPEN_STATUSES)
    overdue = is_open & Q(balance__gt=0, due_date__lt=today)
    invoices = list(
        client.invoices.annotate(
            open_balance=Window(Sum("balance", filter=is_open)),
            overdue_balance=Window(Sum("balance", filter=overdue)),
            overdue_invoices=Window(Count("pk", filter=overdue)),
        ).order_by("-issue_date", "-pk")[: limit + 1]
    )
    figures = invoices[0] if invoices else None
    return ClientInvoiceSummary(
        invoices=invoices[:limit],
        more=len(invoices) > limit,
        open_balance=money_from_db(figures and figures.open_balance),
        overdue_balance=money_from_db(figures and figures.overdue_balance),
        overdue_invoices=figures.overdue_invoices if figures else 0,
        credit_notes=list(
            # What the list shows: not the invoice's 38 columns, which cost more to compile
            # than the query costs to run.
            client.credit_notes.select_related("invoice").only(
                "number", "total", "currency", "client_id", "invoice__number"
            )[:limit]
        ),
    )


def invoices_for_client_user(user) -> QuerySet[Invoice]:
    """What a client sees: their own issued invoices, never drafts, never anyone else's."""
    return Invoice.objects.issued().filter(client__user=user)


def credit_notes_for_client_user(user) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(client__user=user).select_related("invoice")
