"""Money figures for the dashboard and the reports, one definition each (GUIDE §2: every figure
on a report and the dashboard comes from the same functions). Database aggregates only.

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

from django.db.models import Avg, Count, DecimalField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from clients.models import Client
from cms_project.money import ZERO, period_bounds, round_money

from .models import CreditNote, Invoice, InvoiceLine, Payment, Refund

_MONEY = DecimalField(max_digits=16, decimal_places=2)
OTHER_CHARGES = "Other charges"


def _money(value) -> Decimal:
    # SQLite may hand back decimal arithmetic as floats: back to cents through str().
    return round_money(Decimal(str(value))) if value is not None else ZERO


def _month_key(value) -> tuple[int, int]:
    return value.year, value.month


def _sum_by_month(queryset, date_field: str, amount: str, first: date, last: date) -> dict:
    rows = (
        queryset.filter(**{f"{date_field}__range": (first, last)})
        .order_by()
        .annotate(m=TruncMonth(date_field))
        .values("m")
        .annotate(s=Sum(amount))
        .values_list("m", "s")
    )
    return {_month_key(m): _money(s) for m, s in rows}


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
    """Invoiced, credited and collected for each month. Four grouped queries."""
    first, last = period_bounds(*months[0])[0], period_bounds(*months[-1])[1]
    invoiced = _sum_by_month(Invoice.objects.issued(), "issue_date", "total", first, last)
    credited = _sum_by_month(CreditNote.objects.all(), "issue_date", "total", first, last)
    paid = _sum_by_month(Payment.objects.all(), "received_on", "amount", first, last)
    refunded = _sum_by_month(Refund.objects.all(), "refunded_on", "amount", first, last)
    return [
        MoneyMonth(
            year=y,
            month=m,
            invoiced=invoiced.get((y, m), ZERO),
            credited=credited.get((y, m), ZERO),
            collected=paid.get((y, m), ZERO) - refunded.get((y, m), ZERO),
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
    """Invoiced, credited and collected between two days (inclusive). Four queries."""
    invoices = Invoice.objects.issued().filter(issue_date__range=(first, last))
    row = invoices.aggregate(s=Sum("total"), n=Count("pk"))
    credited = CreditNote.objects.filter(issue_date__range=(first, last)).aggregate(s=Sum("total"))[
        "s"
    ]
    paid = Payment.objects.filter(received_on__range=(first, last)).aggregate(s=Sum("amount"))
    refunded = Refund.objects.filter(refunded_on__range=(first, last)).aggregate(s=Sum("amount"))
    return PeriodMoney(
        invoiced=_money(row["s"]),
        credited=_money(credited),
        collected=_money(paid["s"]) - _money(refunded["s"]),
        invoice_count=row["n"],
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
        outstanding=_money(row["outstanding"]),
        outstanding_count=row["outstanding_count"],
        overdue=_money(row["overdue"]),
        overdue_count=row["overdue_count"],
    )


def _lines_between(first: date, last: date):
    return InvoiceLine.objects.filter(
        invoice__issue_date__range=(first, last),
        invoice__status__in=[s for s in Invoice.Status.values if s != Invoice.Status.DRAFT],
    )


def revenue_by_service(first: date, last: date) -> list[dict]:
    """[{"service": name, "revenue": Decimal}] biggest first. One grouped query."""
    rows = (
        _lines_between(first, last)
        .order_by()
        .values("subscription__service__name")
        .annotate(s=Sum("net"))
        .values_list("subscription__service__name", "s")
    )
    result = [{"service": name or OTHER_CHARGES, "revenue": _money(s)} for name, s in rows]
    return sorted(result, key=lambda r: (-r["revenue"], r["service"]))


def revenue_by_service_and_month(months: list[tuple[int, int]]) -> dict:
    """{"services": [names], "rows": [{"service", "months": [Decimal…], "total"}]}: one query."""
    first, last = period_bounds(*months[0])[0], period_bounds(*months[-1])[1]
    rows = (
        _lines_between(first, last)
        .order_by()
        .annotate(m=TruncMonth("invoice__issue_date"))
        .values("subscription__service__name", "m")
        .annotate(s=Sum("net"))
        .values_list("subscription__service__name", "m", "s")
    )
    table: dict[str, dict] = {}
    for name, month, total in rows:
        table.setdefault(name or OTHER_CHARGES, {})[_month_key(month)] = _money(total)
    result = []
    for name, by_month in table.items():
        values = [by_month.get(key, ZERO) for key in months]
        result.append({"service": name, "months": values, "total": sum(values, ZERO)})
    result.sort(key=lambda r: (-r["total"], r["service"]))
    totals = [sum((r["months"][i] for r in result), ZERO) for i in range(len(months))]
    return {"rows": result, "totals": totals}


def _refunds_of_client():
    return Coalesce(
        Subquery(
            Refund.objects.filter(payment__client=OuterRef("client"))
            .order_by()
            .values("payment__client")
            .annotate(s=Sum("amount"))
            .values("s"),
            output_field=_MONEY,
        ),
        Value(ZERO),
        output_field=_MONEY,
    )


def top_clients_by_lifetime_value(*, limit: int = 10) -> list[dict]:
    """The clients who paid the most, net of refunds ([{"client", "lifetime_value"}]). The
    same definition as `invoices.ledger.lifetime_value`; grouped over payments, so the cost
    follows the payments, not a subquery per client. Two queries."""
    rows = list(
        Payment.objects.order_by()
        .values("client")
        .annotate(ltv=Sum("amount") - _refunds_of_client())
        .order_by("-ltv", "client")
        .values_list("client", "ltv")[:limit]
    )
    clients = Client.objects.in_bulk([pk for pk, _ in rows])
    return [{"client": clients[pk], "lifetime_value": _money(ltv)} for pk, ltv in rows]


@dataclass(frozen=True)
class SalesMetrics:
    count: int
    total: Decimal
    average: Decimal
    largest: Decimal


def sales_metrics(first: date | None = None, last: date | None = None) -> SalesMetrics:
    """Payments received (all time, or between two days): count, total, average, largest."""
    payments = Payment.objects.all()
    if first and last:
        payments = payments.filter(received_on__range=(first, last))
    row = payments.aggregate(n=Count("pk"), s=Sum("amount"), a=Avg("amount"), m=Max("amount"))
    return SalesMetrics(
        count=row["n"], total=_money(row["s"]), average=_money(row["a"]), largest=_money(row["m"])
    )


def lifetime_value_totals() -> dict:
    """Σ lifetime value of every client (payments − refunds). Two queries."""
    paid = Payment.objects.aggregate(s=Sum("amount"))["s"]
    refunded = Refund.objects.aggregate(s=Sum("amount"))["s"]
    return {"total": _money(paid) - _money(refunded)}
