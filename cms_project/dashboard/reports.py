"""Staff reports. Each report is one function returning a `Report`: the page shows its table and
the CSV export writes the very same rows (raw values: amounts as plain decimals), so the two
always match. The figures come from the apps' metrics modules, the same ones the dashboard uses.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from django.core.cache import cache
from django.db.models import (
    DecimalField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from clients import metrics as client_metrics
from clients.models import Client, Equipment, ServiceLocation
from cms_project.money import ZERO, money_from_db, period_bounds, previous_period, round_money
from invoices import metrics as money_metrics
from invoices.ledger import balance_of, lifetime_value_of, with_ledger_sums
from invoices.models import Invoice
from services import metrics as subscription_metrics
from services.models import Subscription

_MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass
class Report:
    title: str
    caption: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    # Columns holding money (formatted as money on the page, plain decimals in the CSV).
    money_columns: set[int] = field(default_factory=set)
    footer: list | None = None
    summary: list[tuple[str, object]] = field(default_factory=list)  # (label, value)
    money_rows: set[int] = field(default_factory=set)  # rows of a figure/value table
    links: dict[int, int] = field(default_factory=dict)  # row index -> client pk
    link_column: int | None = None  # the column that links to the row's client page
    months: list = field(default_factory=list)  # per-month money (revenue report)
    computed_at: datetime | None = None  # set when the figures come from the minute's cache

    def rows_with_links(self) -> list[tuple[list, str]]:
        """(row, URL of the row's client page or "") for the page."""
        return [
            (row, reverse("clients:client_detail", args=[self.links[i]]) if i in self.links else "")
            for i, row in enumerate(self.rows)
        ]


@dataclass(frozen=True)
class Filters:
    first: date
    last: date
    limit: int = 10
    status: str = ""
    segment: str = ""
    q: str = ""


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    result, ym = [], (last.year, last.month)
    while ym >= (first.year, first.month):
        result.append(ym)
        ym = previous_period(*ym)
    return result[::-1]


def _label(ym: tuple[int, int]) -> str:
    return date(ym[0], ym[1], 1).strftime("%b %Y")


# --- Money -----------------------------------------------------------------------------------
def revenue_report(filters: Filters) -> Report:
    """Invoiced, credited, net and collected per month, then revenue by service per month."""
    months = months_between(filters.first, filters.last)
    per_month = money_metrics.money_by_month(months)
    by_service = money_metrics.revenue_by_service_and_month(months)
    report = Report(
        title="Revenue by month and by service",
        caption="Revenue by service per month (invoice lines, net of tax)",
        headers=["Service", *[_label(m) for m in months], "Total"],
        money_columns=set(range(1, len(months) + 2)),
    )
    for row in by_service["rows"]:
        report.rows.append([row["service"], *row["months"], row["total"]])
    report.footer = ["All services", *by_service["totals"], sum(by_service["totals"], ZERO)]
    report.summary = [
        ("Invoiced (totals incl. tax)", sum((m.invoiced for m in per_month), ZERO)),
        ("Credited", sum((m.credited for m in per_month), ZERO)),
        ("Collected (payments − refunds)", sum((m.collected for m in per_month), ZERO)),
    ]
    report.months = per_month  # the page shows the per-month money table too
    return report


# MRR reads every subscription (~190 ms at 100,000 clients): the report is computed at most
# once a minute for the same months, like the dashboard, and says when it was.
SUBSCRIPTIONS_CACHE_SECONDS = 60


def subscriptions_report(filters: Filters) -> Report:
    months = months_between(filters.first, filters.last)
    today = timezone.localdate()
    (y1, m1), (y2, m2) = months[0], months[-1]
    key = f"report:subscriptions:v1:{today.isoformat()}:{y1}-{m1}:{y2}-{m2}"
    cached = cache.get(key)
    if cached is None:
        rows = subscription_metrics.subscription_months(months=months, today=today)
        cached = (rows, timezone.now())
        cache.set(key, cached, SUBSCRIPTIONS_CACHE_SECONDS)
    rows, computed_at = cached
    report = Report(
        title="MRR, new and churned subscriptions",
        caption="Monthly recurring revenue at each month's end, new and churned subscriptions",
        headers=["Month", "MRR", "New subscriptions", "Churned subscriptions"],
        money_columns={1},
        computed_at=computed_at,
    )
    report.rows = [[r.label, r.mrr, r.new, r.churned] for r in rows]
    report.footer = [
        "Total",
        rows[-1].mrr if rows else ZERO,
        sum(r.new for r in rows),
        sum(r.churned for r in rows),
    ]
    return report


def top_customers_report(filters: Filters) -> Report:
    rows = money_metrics.top_clients_by_lifetime_value(limit=filters.limit)
    report = Report(
        title=f"Top {filters.limit} customers by lifetime value",
        caption="Customers by lifetime value (payments received − refunds)",
        headers=["Rank", "Account", "Client", "Status", "Lifetime value"],
        money_columns={4},
    )
    report.rows = [
        [
            rank,
            r["client"].account_number,
            r["client"].display_name,
            r["client"].get_status_display(),
            r["lifetime_value"],
        ]
        for rank, r in enumerate(rows, start=1)
    ]
    report.links = {i: r["client"].pk for i, r in enumerate(rows)}
    report.link_column = 2
    return report


def customer_summary_report(filters: Filters) -> Report:
    by_status = client_metrics.clients_by_status()
    total = sum(by_status.values())
    customers = total - by_status[Client.Status.PROSPECT]
    ltv = money_metrics.lifetime_value_totals()["total"]
    sales = money_metrics.sales_metrics(filters.first, filters.last)
    report = Report(
        title="Customer summary",
        caption="Customer and sales figures",
        headers=["Figure", "Value"],
    )
    average_ltv = round_money(ltv / customers) if customers else ZERO
    report.rows = [
        ["Clients (all)", total],
        ["Active", by_status[Client.Status.ACTIVE]],
        ["Inactive (suspended or cancelled)",
         by_status[Client.Status.SUSPENDED] + by_status[Client.Status.CANCELLED]],
        ["Clients (not prospects)", customers],
        ["Prospects", by_status[Client.Status.PROSPECT]],
        ["Total lifetime value", ltv],
        ["Average lifetime value per client (not prospects)", average_ltv],
        [f"Payments {filters.first:%Y-%m-%d} to {filters.last:%Y-%m-%d}: count", sales.count],
        ["Payments: total", sales.total],
        ["Payments: average", sales.average],
        ["Payments: largest", sales.largest],
    ]  # fmt: skip
    report.money_rows = {5, 6, 8, 9, 10}
    return report


def interactions_report(filters: Filters) -> Report:
    rows = client_metrics.interactions_by_kind_and_outcome(since=filters.first, until=filters.last)
    report = Report(
        title="Interaction analysis",
        caption="Interactions by type and outcome",
        headers=["Type", "Outcome", "Interactions"],
    )
    report.rows = [[r["label"], r["outcome"], r["count"]] for r in rows]
    report.footer = ["All", "", sum(r["count"] for r in rows)]
    report.summary = [
        (r["label"], r["count"])
        for r in client_metrics.interactions_by_kind(since=filters.first, until=filters.last)
    ]
    return report


# --- Full account report ---------------------------------------------------------------------
ACCOUNT_HEADERS = [
    "Account",
    "Client",
    "Status",
    "Type",
    "Email",
    "Locations",
    "Active services",
    "Equipment",
    "Invoiced",
    "Paid",
    "Balance",
    "Overdue",
    "Lifetime value",
    "Last payment",
]
ACCOUNT_MONEY = {8, 9, 10, 11, 12}


def account_matches(filters: Filters) -> QuerySet[Client]:
    """The clients matching the filters, without figures: what the page counts (counting the
    annotated queryset returns the same number after ~3 ms more of Python stripping the
    subqueries)."""
    clients = Client.objects.all()
    if filters.status:
        clients = clients.filter(status=filters.status)
    if filters.segment:
        clients = clients.filter(segment=filters.segment)
    if filters.q:
        clients = clients.filter(
            Q(name__icontains=filters.q)
            | Q(company_name__icontains=filters.q)
            | Q(account_number__iexact=filters.q)
        )
    return clients


def account_clients(filters: Filters) -> QuerySet[Client]:
    """Every client matching the filters with its ledger figures annotated (one query per page
    or CSV chunk; account_rows_for adds three for their locations, services and equipment)."""
    overdue = (
        Invoice.objects.open()
        .filter(client=OuterRef("pk"), balance__gt=0, due_date__lt=filters.last)
        .order_by()
        .values("client")
        .annotate(s=Sum("balance"))
        .values("s")
    )
    return (
        with_ledger_sums(account_matches(filters))
        .annotate(
            overdue=Coalesce(
                Subquery(overdue, output_field=_MONEY), Value(ZERO), output_field=_MONEY
            )
        )
        # Only what a row shows: a whole client costs ~0.15 ms each to load (its phone
        # numbers are parsed), a third of the page's Python time.
        .only(*ACCOUNT_CLIENT_FIELDS)
        .order_by("account_number")
    )


ACCOUNT_CLIENT_FIELDS = (
    "account_number", "name", "company_name", "status", "segment", "email", "last_payment_date",
)  # fmt: skip


@dataclass
class _Location:
    label: str
    address: str
    services: list[str] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)


_EQUIPMENT_KINDS = dict(Equipment.Kind.choices)
_EQUIPMENT_STATUSES = dict(Equipment.Status.choices)


def _locations_of(clients: list[Client]) -> dict[int, list[_Location]]:
    """Each client's locations (by label) with their active or suspended services (by name)
    and equipment (by serial number), as the report's cells say them: three queries of plain
    values (prefetching model instances cost ~15 ms a page of 50, most of it per-object
    querysets)."""
    by_client: dict[int, list[_Location]] = {client.pk: [] for client in clients}
    by_pk: dict[int, _Location] = {}
    for pk, client_id, label, street, city in (
        ServiceLocation.objects.filter(client_id__in=by_client)
        .order_by("label", "pk")
        .values_list("pk", "client_id", "label", "street", "city")
    ):
        by_pk[pk] = _Location(label=label, address=f"{street}, {city}")
        by_client[client_id].append(by_pk[pk])
    if not by_pk:
        return by_client
    for location_id, name, quantity, status in (
        Subscription.objects.filter(
            location_id__in=by_pk,
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED],
        )
        .order_by("service__name", "pk")
        .values_list("location_id", "service__name", "quantity", "status")
    ):
        location = by_pk[location_id]
        location.services.append(
            f"{name}{' ×' + str(quantity) if quantity > 1 else ''} ({location.label}"
            f"{', suspended' if status == Subscription.Status.SUSPENDED else ''})"
        )
    for location_id, kind, serial, status in (
        Equipment.objects.filter(location_id__in=by_pk)
        .order_by("serial_number")
        .values_list("location_id", "kind", "serial_number", "status")
    ):
        location = by_pk[location_id]
        location.equipment.append(
            f"{_EQUIPMENT_KINDS.get(kind, kind)} {serial} ({location.label}, "
            f"{_EQUIPMENT_STATUSES.get(status, status)})"
        )
    return by_client


def account_rows_for(clients: list[Client]) -> list[list]:
    """The report's rows of these clients (from account_clients): three queries."""
    locations = _locations_of(clients)
    return [_account_row(client, locations[client.pk]) for client in clients]


def _account_row(client: Client, locations: list[_Location]) -> list:
    return [
        client.account_number,
        client.display_name,
        client.get_status_display(),
        client.get_segment_display(),
        client.email,
        "; ".join(f"{loc.label}: {loc.address}" for loc in locations),
        "; ".join(service for loc in locations for service in loc.services),
        "; ".join(device for loc in locations for device in loc.equipment),
        money_from_db(client.ledger_invoiced),
        money_from_db(client.ledger_paid),
        balance_of(client),
        money_from_db(client.overdue),
        lifetime_value_of(client),
        client.last_payment_date,
    ]


def account_rows(filters: Filters, *, chunk_size: int = 2000) -> Iterator[list]:
    """The CSV of the full account report: every matching client, streamed in chunks."""
    yield ACCOUNT_HEADERS
    clients = account_clients(filters).iterator(chunk_size=chunk_size)
    while chunk := list(islice(clients, chunk_size)):
        yield from account_rows_for(chunk)


@dataclass(frozen=True)
class ReportKind:
    slug: str
    title: str
    description: str
    build: Callable[[Filters], Report] | None
    fields: tuple[str, ...]


REPORTS: dict[str, ReportKind] = {
    kind.slug: kind
    for kind in (
        ReportKind(
            "accounts",
            "Full account report",
            "Every client with locations, services, equipment and billing status.",
            None,
            ("q", "status", "segment"),
        ),
        ReportKind(
            "revenue",
            "Revenue by service and month",
            "Invoiced, credited and collected per month; revenue by service (net of tax).",
            revenue_report,
            ("first", "last"),
        ),
        ReportKind(
            "subscriptions",
            "MRR and subscriptions",
            "Monthly recurring revenue, new and churned subscriptions per month.",
            subscriptions_report,
            ("first", "last"),
        ),
        ReportKind(
            "top-customers",
            "Top customers",
            "Customers by lifetime value (payments − refunds).",
            top_customers_report,
            ("limit",),
        ),
        ReportKind(
            "customer-summary",
            "Customer summary",
            "Totals, active vs inactive, clients vs prospects, average lifetime value; "
            "payments: count, total, average and largest.",
            customer_summary_report,
            ("first", "last"),
        ),
        ReportKind(
            "interactions",
            "Interaction analysis",
            "Interactions by type and outcome.",
            interactions_report,
            ("first", "last"),
        ),
    )
}


def default_range(today: date) -> tuple[date, date]:
    """The 12 months to the end of the running month."""
    ym = (today.year, today.month)
    for _ in range(11):
        ym = previous_period(*ym)
    return period_bounds(*ym)[0], period_bounds(today.year, today.month)[1]


def csv_rows(report: Report) -> Iterator[list]:
    yield report.headers
    yield from report.rows
    if report.footer:
        yield report.footer
