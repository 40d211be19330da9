"""Aging of what clients owe, and the late payers list (staff report).

One SQL statement per page: open invoices that still owe, joined to their client and grouped
by client, with a conditional SUM per bucket of days past due; the totals row and the count
come with the page's rows as window aggregates over the grouped rows (`SUM(...) OVER ()`), so
the grouping — the whole cost of the page — is evaluated once, not once for the page and once
for the totals. On PostgreSQL the grouping is by
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

from django.core.paginator import Page
from django.db.models import (
    CharField,
    DecimalField,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce

from clients.models import Client
from cms_project.money import ZERO, money_from_db
from cms_project.pagination import KnownCountPaginator

from .models import ClientAging, Invoice, Reminder

MONEY = DecimalField(max_digits=14, decimal_places=2)
BUCKETS = {
    "current": "Current",
    "1_30": "1–30 days",
    "31_60": "31–60 days",
    "61_90": "61–90 days",
    "90_plus": "90+ days",
}
SORTS = {
    "-overdue": ("-overdue", "client_id"),
    "overdue": ("overdue", "client_id"),
    "oldest_due": ("oldest_due", "client_id"),
    "-oldest_due": ("-oldest_due", "client_id"),
    "name": ("client__name", "client_id"),
    "-name": ("-client__name", "-client_id"),
    "last_payment": ("client__last_payment_date", "client_id"),
    "-last_payment": ("-client__last_payment_date", "client_id"),
    "b_90_plus": ("b_90_plus", "overdue", "client_id"),
    "-b_90_plus": ("-b_90_plus", "-overdue", "client_id"),
}
DEFAULT_SORT = "-overdue"
FIGURES = ("b_current", "b_1_30", "b_31_60", "b_61_90", "b_90_plus", "overdue")


def _bucket_filters(today: date) -> dict[str, Q]:
    def past(days: int) -> date:
        return today - timedelta(days=days)

    return {
        "current": Q(due_date__gte=today),
        "1_30": Q(due_date__lt=today, due_date__gte=past(30)),
        "31_60": Q(due_date__lt=past(30), due_date__gte=past(60)),
        "61_90": Q(due_date__lt=past(60), due_date__gte=past(90)),
        "90_plus": Q(due_date__lt=past(90)),
    }


def _sum(condition: Q) -> Coalesce:
    return Coalesce(Sum("balance", filter=condition), Value(ZERO), output_field=MONEY)


def owing_invoices() -> QuerySet:
    """Open invoices that still owe and have a due date: what aging is made of."""
    return Invoice.objects.filter(
        status__in=Invoice.OPEN_STATUSES, balance__gt=0, due_date__isnull=False
    )


def aged_by_client(owing: QuerySet, today: date) -> QuerySet:
    """`owing` (invoices) grouped per client into the late payers' figures, for clients with
    an overdue balance: client_id, b_current … b_90_plus, overdue, oldest_due, in that order
    (`aging_rows` inserts this SELECT as it is)."""
    return (
        owing.order_by()
        .values("client_id")
        .annotate(
            **{f"b_{name}": _sum(condition) for name, condition in _bucket_filters(today).items()},
            overdue=_sum(Q(due_date__lt=today)),
            oldest_due=Min("due_date", filter=Q(due_date__lt=today)),
        )
        .filter(overdue__gt=0)
    )


def late_payers(
    *,
    today: date,
    min_amount: Decimal | None = None,
    bucket: str = "",
    segment: str = "",
    paused: str = "",
    search: str = "",
    sort: str = DEFAULT_SORT,
    from_rows: bool = False,
) -> QuerySet:
    """One dict per client with an overdue balance: client_id, b_current, b_1_30, b_31_60,
    b_61_90, b_90_plus, overdue, oldest_due.

    With `from_rows` (when `aging_rows.are_current(today)`), read from the per-client rows
    kept by `aging_rows`: an index scan for a page. Otherwise grouped from the invoices (the
    narrow rows of the partial index); either way the clients table is only read for a filter
    or a sort on its columns, and for the rows of one page (`with_clients`)."""
    if from_rows:
        rows = ClientAging.objects.values("client_id", *FIGURES, "oldest_due")
    else:
        rows = owing_invoices()
    # The same lookups through `client` on invoices and on aging rows.
    if segment:
        rows = rows.filter(client__segment=segment)
    if paused == "yes":
        rows = rows.filter(client__reminders_paused_until__gt=today)
    elif paused == "no":
        rows = rows.exclude(client__reminders_paused_until__gt=today)
    search = " ".join((search or "").replace("\x00", "").split())[:100]
    if search:
        rows = rows.filter(
            Q(client__name__icontains=search)
            | Q(client__company_name__icontains=search)
            | Q(client__account_number__iexact=search)
            | Q(client__email__iexact=search)
        )
    if not from_rows:
        rows = aged_by_client(rows, today)
    if min_amount is not None:
        rows = rows.filter(overdue__gte=min_amount)
    if bucket in BUCKETS:
        rows = rows.filter(**{f"b_{bucket}__gt": 0})
    return rows.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


# What a row (page or CSV) shows of its client: loading whole clients costs ~0.15 ms each.
ROW_CLIENT_FIELDS = (
    "account_number", "name", "company_name", "segment", "email", "last_payment_date",
    "reminders_paused_until",
)  # fmt: skip


def with_clients(rows) -> list[Client]:
    """The clients of some late payers rows (a page, a CSV chunk), in the rows' order, with
    the figures and `last_reminder_at` set on them: two queries whatever the number."""
    rows = list(rows)
    ids = [row["client_id"] for row in rows]
    # The phone as its stored text: parsing 50 numbers into PhoneNumber objects only to format
    # them again was a fifth of the page (the row formats the text, cached per number).
    clients = (
        Client.objects.only(*ROW_CLIENT_FIELDS)
        .annotate(phone_text=Cast("phone", CharField()))
        .in_bulk(ids)
    )
    last = dict(
        Reminder.objects.filter(client_id__in=ids)
        .order_by()
        .values("client_id")
        .annotate(m=Max("sent_at"))
        .values_list("client_id", "m")
    )
    out = []
    for row in rows:
        client = clients[row["client_id"]]
        for name in FIGURES:
            setattr(client, name, money_from_db(row[name]))
        client.oldest_due = row["oldest_due"]
        client.last_reminder_at = last.get(client.pk)
        out.append(client)
    return out


@dataclass(frozen=True)
class AgingTotals:
    clients: int
    current: Decimal
    b_1_30: Decimal
    b_31_60: Decimal
    b_61_90: Decimal
    b_90_plus: Decimal
    overdue: Decimal


def totals(rows: QuerySet) -> AgingTotals:
    """The totals row of a late payers list: one query over the grouped rows."""
    # Outer names differ from the annotations they sum: an aggregate named like the
    # annotation it reads would shadow it.
    row = rows.order_by().aggregate(
        t_clients=Coalesce(Sum(Value(1)), 0),
        t_current=Sum("b_current"),
        t_1_30=Sum("b_1_30"),
        t_31_60=Sum("b_31_60"),
        t_61_90=Sum("b_61_90"),
        t_90_plus=Sum("b_90_plus"),
        t_overdue=Sum("overdue"),
    )
    return AgingTotals(
        clients=row["t_clients"] or 0,
        current=money_from_db(row["t_current"]),
        b_1_30=money_from_db(row["t_1_30"]),
        b_31_60=money_from_db(row["t_31_60"]),
        b_61_90=money_from_db(row["t_61_90"]),
        b_90_plus=money_from_db(row["t_90_plus"]),
        overdue=money_from_db(row["t_overdue"]),
    )


def money(value) -> Decimal:
    return money_from_db(value)


class _OverAll(Func):
    """An aggregate over every row of a grouped query, after HAVING: `SUM(<aggregate>) OVER ()`.
    Django's Window refuses an aggregate inside an aggregate; SQL (PostgreSQL and SQLite) allows
    it, as window functions run after the grouping."""

    template = "%(function)s(%(expressions)s) OVER ()"
    contains_over_clause = True

    def get_group_by_cols(self):
        return []


def _with_totals(rows: QuerySet) -> QuerySet:
    return rows.annotate(
        t_clients=_OverAll(F("overdue"), function="COUNT", output_field=IntegerField()),
        **{f"t_{name}": _OverAll(F(name), function="SUM", output_field=MONEY) for name in FIGURES},
    )


def _totals_of(row: dict | None) -> AgingTotals:
    row = row or {}
    return AgingTotals(
        clients=row.get("t_clients", 0),
        current=money_from_db(row.get("t_b_current")),
        b_1_30=money_from_db(row.get("t_b_1_30")),
        b_31_60=money_from_db(row.get("t_b_31_60")),
        b_61_90=money_from_db(row.get("t_b_61_90")),
        b_90_plus=money_from_db(row.get("t_b_90_plus")),
        overdue=money_from_db(row.get("t_overdue")),
    )


def late_payers_page(rows: QuerySet, number, *, per_page: int) -> tuple[Page, AgingTotals]:
    """One page of late payers (as clients, see `with_clients`) and the totals of every row,
    from one query. Like `Paginator.get_page`: a page number that is not a number shows the
    first page, one past the end the last (then a second query counts the rows first)."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1

    # Sorted on a client column (name, last payment), PostgreSQL walks the clients in index
    # order and stops after the page's rows (1 ms); a window over every row would make it group
    # the whole list in that order (260 ms at 100,000 clients). There the totals stay a query
    # of their own, and the count comes from them.
    # From the aging rows, the page is an index scan too; the totals read the narrow rows once.
    first = (rows.query.order_by or [""])[0]
    separate = rows.model is ClientAging or first.lstrip("-").startswith("client__")
    summary = totals(rows) if separate else None
    source = rows if separate else _with_totals(rows)

    def fetch(number: int) -> list[dict]:
        return list(source[(number - 1) * per_page : number * per_page])

    fetched = fetch(number)
    if not fetched and number > 1:  # past the end (a stale link): the last page
        number = max(-(-(summary or totals(rows)).clients // per_page), 1)
        fetched = fetch(number)
    summary = summary or _totals_of(fetched[0] if fetched else None)
    paginator = KnownCountPaginator([], per_page, count=summary.clients)
    return Page(with_clients(fetched), number, paginator), summary
