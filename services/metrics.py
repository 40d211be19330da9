"""Subscription figures for the dashboard and the reports: monthly recurring revenue (MRR),
active subscriptions, new and churned subscriptions per month.

MRR on a day = Σ, over the monthly subscriptions billed that day, of quantity × unit price
(the agreed price while in force, else the service's list price in effect that day), net of
tax. "Billed that day" is what the billing run bills: active subscriptions and cancelled ones
that ran until their end date (`Subscription.objects.billable()`), started and not yet ended.
A suspended subscription is not billed, so it does not count.

The database adds up the subscriptions per service (one query for any number of days, plus one
for the list prices); Python then adds up those per-service rows, never subscription rows.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum

from cms_project.money import ZERO, period_bounds, round_money

from .models import Service, ServicePrice, Subscription

_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _live_on(day: date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


def _agreed_on(day: date) -> Q:
    return Q(agreed_price__isnull=False) & (
        Q(agreed_price_until__isnull=True) | Q(agreed_price_until__gte=day)
    )


def _monthly_billable():
    return Subscription.objects.billable().filter(
        service__billing_cycle=Service.BillingCycle.MONTHLY
    )


def _dec(value) -> Decimal:
    # SQLite may hand back decimal arithmetic as floats: back to Decimal through str().
    return Decimal(str(value)) if value is not None else ZERO


def list_prices_on(service_ids, days: list[date]) -> dict[int, list[Decimal | None]]:
    """Each service's list price in effect on each day (None before its first price). One
    query over the price history, which holds a handful of rows per service."""
    history: dict[int, list[tuple[date, Decimal]]] = {}
    for service, since, amount in (
        ServicePrice.objects.filter(service__in=service_ids)
        .order_by("service", "effective_from")
        .values_list("service", "effective_from", "amount")
    ):
        history.setdefault(service, []).append((since, amount))
    return {
        service: [
            next((amount for since, amount in reversed(prices) if since <= day), None)
            for day in days
        ]
        for service, prices in history.items()
    }


def mrr_by_service_on(days: list[date]) -> list[dict]:
    """Per service: {"service_id", "name", "mrr": [one Decimal per day]}. Two queries: the
    subscriptions summed per service (agreed prices, and quantities at the list price), then
    the list prices. The price is not a subquery of the first: PostgreSQL would evaluate it
    for every subscription row (seconds at 100,000 clients) instead of once per service."""
    aggregates = {}
    for i, day in enumerate(days):
        live, agreed = _live_on(day), _agreed_on(day)
        aggregates[f"agreed_{i}"] = Sum(
            F("quantity") * F("agreed_price"), filter=live & agreed, output_field=_MONEY
        )
        aggregates[f"qty_{i}"] = Sum("quantity", filter=live & ~agreed)
    rows = list(
        _monthly_billable().order_by().values("service", "service__name").annotate(**aggregates)
    )
    prices = list_prices_on([row["service"] for row in rows], days)
    result = []
    for row in rows:
        price = prices.get(row["service"], [None] * len(days))
        mrr = [
            round_money(_dec(row[f"agreed_{i}"]) + _dec(row[f"qty_{i}"]) * _dec(price[i]))
            for i in range(len(days))
        ]
        result.append({"service_id": row["service"], "name": row["service__name"], "mrr": mrr})
    result.sort(key=lambda r: (-r["mrr"][-1] if r["mrr"] else 0, r["name"]))
    return result


def mrr_on(day: date) -> Decimal:
    return sum((row["mrr"][0] for row in mrr_by_service_on([day])), ZERO)


def month_end_or_today(year: int, month: int, today: date) -> date:
    """The day a month's MRR is read on: its last day, or today for the running month."""
    return min(period_bounds(year, month)[1], today)


@dataclass(frozen=True)
class SubscriptionMonth:
    year: int
    month: int
    mrr: Decimal
    new: int
    churned: int

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%b %Y")


def subscription_months(*, months: list[tuple[int, int]], today: date) -> list[SubscriptionMonth]:
    """MRR at each month's end (today for the running month), new subscriptions (started that
    month) and churned ones (ended that month, cancelled). Three queries."""
    days = [month_end_or_today(y, m, today) for y, m in months]
    per_service = mrr_by_service_on(days)
    counts = {}
    for i, (y, m) in enumerate(months):
        first, last = period_bounds(y, m)
        counts[f"new_{i}"] = Count("pk", filter=Q(start_date__range=(first, last)))
        counts[f"churn_{i}"] = Count(
            "pk",
            filter=Q(status=Subscription.Status.CANCELLED, end_date__range=(first, last)),
        )
    first_day = period_bounds(*months[0])[0]
    row = (
        _monthly_billable()
        .filter(Q(start_date__gte=first_day) | Q(end_date__gte=first_day))
        .aggregate(**counts)
    )
    return [
        SubscriptionMonth(
            year=y,
            month=m,
            mrr=sum((s["mrr"][i] for s in per_service), ZERO),
            new=row[f"new_{i}"],
            churned=row[f"churn_{i}"],
        )
        for i, (y, m) in enumerate(months)
    ]


def subscription_counts() -> dict[str, int]:
    """Subscriptions by status (pending, active, suspended, cancelled). One query."""
    found = dict(
        Subscription.objects.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: found.get(status, 0) for status in Subscription.Status.values}
