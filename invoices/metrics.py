"""Money figures for the dashboard and the reports, one definition each (GUIDE §2: every figure
on a report and the dashboard comes from the same functions). Database aggregates only: the
money over time and lifetime value are read from the running totals (`running_totals.py`),
which the documents add to as they are written; the open balances from the invoices.

- invoiced (a month): Σ totals of the invoices issued that month (drafts never count);
- credited: Σ totals of the credit notes issued that month; net invoiced = invoiced − credited;
- collected: Σ payments received that month − Σ refunds made that month (the money kept,
  the same terms as lifetime value in `invoices.ledger`);
- outstanding: Σ balance of the open invoices; overdue: the part past its due date;
- revenue by service: Σ net of the invoice lines billed for each service (tax excluded);
  lines typed by hand (not from a subscription) count as "Other charges";
- lifetime value: `invoices.ledger` (payments − refunds).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth

from cms_project.money import ZERO, money_from_db, period_bounds, round_money
from services.models import Service

from .models import ClientTotal, DailyTotal, Invoice

Measure = DailyTotal.Measure
MONEY_MEASURES = (Measure.INVOICED, Measure.CREDITED, Measure.PAID, Measure.REFUNDED)
OTHER_CHARGES = "Other charges"


def _month_key(value) -> tuple[int, int]:
    return value.year, value.month


def _daily(first: date | None = None, last: date | None = None, *measures: str):
    rows = DailyTotal.objects.filter(measure__in=measures).order_by()
    if first is not None and last is not None:
        rows = rows.filter(day__range=(first, last))
    return rows


@dataclass(frozen=True)
class MoneyMonth:
    year: int
    month: int
    invoiced: Decimal
    credited: Decimal
    collected: Decimal  # payments − refunds

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%b %Y")


def money_by_month(months: list[tuple[int, int]]) -> list[MoneyMonth]:
    """Invoiced, credited and collected for each month. One query over the daily totals."""
    first, last = period_bounds(*months[0])[0], period_bounds(*months[-1])[1]
    sums: dict[tuple, Decimal] = {}
    for month, measure, amount in (
        _daily(first, last, *MONEY_MEASURES)
        .annotate(m=TruncMonth("day"))
        .values("m", "measure")
        .annotate(s=Sum("amount"))
        .values_list("m", "measure", "s")
    ):
        sums[(_month_key(month), measure)] = money_from_db(amount)

    def of(ym, measure):
        return sums.get((ym, measure), ZERO)

    return [
        MoneyMonth(
            year=y,
            month=m,
            invoiced=of((y, m), Measure.INVOICED),
            credited=of((y, m), Measure.CREDITED),
            collected=of((y, m), Measure.PAID) - of((y, m), Measure.REFUNDED),
        )
        for y, m in months
    ]


@dataclass(frozen=True)
class PeriodMoney:
    invoiced: Decimal
    credited: Decimal
    collected: Decimal
    invoice_count: int

    @property
    def net_invoiced(self) -> Decimal:
        return self.invoiced - self.credited


def money_between(first: date, last: date) -> PeriodMoney:
    """Invoiced, credited and collected between two days (inclusive). One query."""
    rows = {
        measure: (money_from_db(amount), count or 0)
        for measure, amount, count in _daily(first, last, *MONEY_MEASURES)
        .values("measure")
        .annotate(s=Sum("amount"), n=Sum("documents"))
        .values_list("measure", "s", "n")
    }

    def of(measure):
        return rows.get(measure, (ZERO, 0))

    return PeriodMoney(
        invoiced=of(Measure.INVOICED)[0],
        credited=of(Measure.CREDITED)[0],
        collected=of(Measure.PAID)[0] - of(Measure.REFUNDED)[0],
        invoice_count=of(Measure.INVOICED)[1],
    )


@dataclass(frozen=True)
class Receivables:
    outstanding: Decimal
    outstanding_count: int
    overdue: Decimal
    overdue_count: int


def receivables(*, today: date) -> Receivables:
    """What open invoices still ask for, and the overdue part. One query."""
    overdue = Q(balance__gt=0, due_date__lt=today)
    row = Invoice.objects.open().aggregate(
        outstanding=Sum("balance"),
        outstanding_count=Count("pk", filter=Q(balance__gt=0)),
        overdue=Sum("balance", filter=overdue),
        overdue_count=Count("pk", filter=overdue),
    )
    return Receivables(
        outstanding=money_from_db(row["outstanding"]),
        outstanding_count=row["outstanding_count"],
        overdue=money_from_db(row["overdue"]),
        overdue_count=row["overdue_count"],
    )


def _service_names(keys) -> dict[int, str]:
    names = dict(Service.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
    return {key: names.get(key, OTHER_CHARGES) if key else OTHER_CHARGES for key in keys}


def revenue_by_service(first: date, last: date) -> list[dict]:
    """[{"service": name, "revenue": Decimal}] biggest first. Two queries (totals, names)."""
    rows = list(
        _daily(first, last, Measure.SERVICE)
        .values("service_key")
        .annotate(s=Sum("amount"))
        .values_list("service_key", "s")
    )
    names = _service_names([key for key, _ in rows])
    result = [{"service": names[key], "revenue": money_from_db(s)} for key, s in rows]
    return sorted(result, key=lambda r: (-r["revenue"], r["service"]))


def revenue_by_service_and_month(months: list[tuple[int, int]]) -> dict:
    """{"rows": [{"service", "months": [Decimal…], "total"}], "totals": [Decimal…]}: two
    queries (the daily totals by service and month, the services' names)."""
    first, last = period_bounds(*months[0])[0], period_bounds(*months[-1])[1]
    rows = list(
        _daily(first, last, Measure.SERVICE)
        .annotate(m=TruncMonth("day"))
        .values("service_key", "m")
        .annotate(s=Sum("amount"))
        .values_list("service_key", "m", "s")
    )
    names = _service_names({key for key, _, _ in rows})
    table: dict[str, dict] = {}
    for key, month, total in rows:
        by_month = table.setdefault(names[key], {})
        by_month[_month_key(month)] = by_month.get(_month_key(month), ZERO) + money_from_db(total)
    result = []
    for name, by_month in table.items():
        values = [by_month.get(key, ZERO) for key in months]
        result.append({"service": name, "months": values, "total": sum(values, ZERO)})
    result.sort(key=lambda r: (-r["total"], r["service"]))
    totals = [sum((r["months"][i] for r in result), ZERO) for i in range(len(months))]
    return {"rows": result, "totals": totals}


def top_clients_by_lifetime_value(*, limit: int = 10) -> list[dict]:
    """The clients who paid the most, net of refunds ([{"client", "lifetime_value"}]): the
    same definition as `invoices.ledger.lifetime_value`, read from the per-client running
    totals (an index walk, not a sum over every payment). Clients who never paid (only
    invoiced) are not customers by this measure. One query."""
    rows = (
        ClientTotal.objects.select_related("client")
        .filter(paid__gt=0)
        .order_by("-lifetime_value", "client")
        .only("lifetime_value", "client")[:limit]
    )
    return [
        {"client": row.client, "lifetime_value": money_from_db(row.lifetime_value)} for row in rows
    ]


@dataclass(frozen=True)
class SalesMetrics:
    count: int
    total: Decimal
    average: Decimal
    largest: Decimal


def sales_metrics(first: date | None = None, last: date | None = None) -> SalesMetrics:
    """Payments received (all time, or between two days): count, total, average, largest."""
    row = _daily(first, last, Measure.PAID).aggregate(
        n=Sum("documents"), s=Sum("amount"), m=Max("largest")
    )
    count, total = row["n"] or 0, money_from_db(row["s"])
    return SalesMetrics(
        count=count,
        total=total,
        average=round_money(total / count) if count else ZERO,
        largest=money_from_db(row["m"]),
    )


def lifetime_value_totals() -> dict:
    """Σ lifetime value of every client (payments − refunds). One query."""
    row = _daily(None, None, Measure.PAID, Measure.REFUNDED).aggregate(
        paid=Sum("amount", filter=Q(measure=Measure.PAID)),
        refunded=Sum("amount", filter=Q(measure=Measure.REFUNDED)),
    )
    return {"total": money_from_db(row["paid"]) - money_from_db(row["refunded"])}
