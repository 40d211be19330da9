"""Aging of what clients owe, and the late payers list (staff report).

One SQL statement per page: open invoices that still owe, joined to their client and grouped
by client, with a conditional SUM per bucket of days past due. On PostgreSQL the grouping is by
the client's primary key only (Django knows the other columns depend on it), and the partial
index `invoice_open_owing_idx` (client, due_date, balance WHERE open AND balance > 0) holds
every column the sums read.

Buckets, by days past the due date on `today` (company time):
    current  not yet due (due today or later)
    1_30     1–30 days past due
    31_60    31–60
    61_90    61–90
    90_plus  more than 90
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    DecimalField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from clients.models import Client
from cms_project.money import ZERO, round_money

from .models import Invoice, Reminder

MONEY = DecimalField(max_digits=14, decimal_places=2)
BUCKETS = {
    "current": "Current",
    "1_30": "1–30 days",
    "31_60": "31–60 days",
    "61_90": "61–90 days",
    "90_plus": "90+ days",
}
SORTS = {
    "-overdue": ("-overdue", "pk"),
    "overdue": ("overdue", "pk"),
    "oldest_due": ("oldest_due", "pk"),
    "-oldest_due": ("-oldest_due", "pk"),
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "last_payment": ("last_payment_date", "pk"),
    "-last_payment": ("-last_payment_date", "pk"),
    "-b_90_plus": ("-b_90_plus", "-overdue", "pk"),
}
DEFAULT_SORT = "-overdue"


def _bucket_filters(today: date) -> dict[str, Q]:
    def past(days: int) -> date:
        return today - timedelta(days=days)

    return {
        "current": Q(invoices__due_date__gte=today),
        "1_30": Q(invoices__due_date__lt=today, invoices__due_date__gte=past(30)),
        "31_60": Q(invoices__due_date__lt=past(30), invoices__due_date__gte=past(60)),
        "61_90": Q(invoices__due_date__lt=past(60), invoices__due_date__gte=past(90)),
        "90_plus": Q(invoices__due_date__lt=past(90)),
    }


def _sum(condition: Q) -> Coalesce:
    return Coalesce(Sum("invoices__balance", filter=condition), Value(ZERO), output_field=MONEY)


def late_payers(
    *,
    today: date,
    min_amount: Decimal | None = None,
    bucket: str = "",
    segment: str = "",
    paused: str = "",
    search: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet:
    """Clients with an overdue balance, annotated with b_current, b_1_30, b_31_60, b_61_90,
    b_90_plus, overdue, oldest_due and last_reminder_at."""
    owing = Q(
        invoices__status__in=Invoice.OPEN_STATUSES,
        invoices__balance__gt=0,
        invoices__due_date__isnull=False,
    )
    buckets = _bucket_filters(today)
    clients = Client.objects.filter(owing)
    if segment:
        clients = clients.filter(segment=segment)
    if paused == "yes":
        clients = clients.filter(reminders_paused_until__gt=today)
    elif paused == "no":
        clients = clients.exclude(reminders_paused_until__gt=today)
    search = " ".join((search or "").replace("\x00", "").split())[:100]
    if search:
        clients = clients.filter(
            Q(name__icontains=search)
            | Q(company_name__icontains=search)
            | Q(account_number__iexact=search)
            | Q(email__iexact=search)
        )
    last_reminder = (
        Reminder.objects.filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(m=Max("sent_at"))
        .values("m")
    )
    clients = clients.annotate(
        **{f"b_{name}": _sum(condition) for name, condition in buckets.items()},
        overdue=_sum(Q(invoices__due_date__lt=today)),
        oldest_due=Min("invoices__due_date", filter=Q(invoices__due_date__lt=today)),
        last_reminder_at=Subquery(last_reminder),
    ).filter(overdue__gt=0)
    if min_amount is not None:
        clients = clients.filter(overdue__gte=min_amount)
    if bucket in BUCKETS:
        clients = clients.filter(**{f"b_{bucket}__gt": 0})
    return clients.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


@dataclass(frozen=True)
class AgingTotals:
    clients: int
    current: Decimal
    b_1_30: Decimal
    b_31_60: Decimal
    b_61_90: Decimal
    b_90_plus: Decimal
    overdue: Decimal


def _money(value) -> Decimal:
    # SQLite hands back sums of decimals as floats: back to cents through str().
    return round_money(Decimal(str(value if value is not None else 0)))


def totals(clients: QuerySet) -> AgingTotals:
    """The totals row of a late payers list: one query over the grouped rows."""
    row = clients.order_by().aggregate(
        n=Coalesce(Sum(Value(1)), 0),
        current=Sum("b_current"),
        b_1_30=Sum("b_1_30"),
        b_31_60=Sum("b_31_60"),
        b_61_90=Sum("b_61_90"),
        b_90_plus=Sum("b_90_plus"),
        overdue=Sum("overdue"),
    )
    return AgingTotals(
        clients=row["n"] or 0,
        current=_money(row["current"]),
        b_1_30=_money(row["b_1_30"]),
        b_31_60=_money(row["b_31_60"]),
        b_61_90=_money(row["b_61_90"]),
        b_90_plus=_money(row["b_90_plus"]),
        overdue=_money(row["overdue"]),
    )


def money(value) -> Decimal:
    return _money(value)
