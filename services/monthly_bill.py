"""A client's monthly bill: the itemised charges of every location for one calendar month.

Every figure comes from `cms_project.money` (per-line rounding, tax per rate on the sum, total =
net + tax), the same functions invoices use, so the bill shown on the client page and in the
portal is what the invoice of that month will say for the same subscriptions.

Rules:
- A monthly subscription is charged for the days it runs inside the month; if it starts or ends
  inside the month it is prorated by days, and the line says how
  (`Fiber 1 Gig — 12–30 Nov, 19/30 days`).
- The unit price is the one in force on the first charged day of the month: the agreed price if
  the subscription has one in force then, otherwise the service's list price in effect. A price
  change in the middle of a month therefore applies from the next month.
- A one-time service (installation) is charged once, in full, in the month of its start date.
- Pending requests and suspended subscriptions are not charged.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone

from clients.models import Client, ServiceLocation
from cms_project.money import (
    TaxGroup,
    days_in_period,
    days_inclusive,
    line_net,
    overlap_with_period,
    period_bounds,
    prorate,
    tax_summary,
    totals,
)

from .models import Service, Subscription
from .subscriptions import subscription_unit_price


@dataclass(frozen=True)
class BillLine:
    subscription: Subscription
    description: str
    quantity: int
    unit_price: Decimal
    net: Decimal
    tax_rate: Decimal
    first_day: date
    last_day: date
    days: int
    days_in_month: int
    agreed_price: bool
    one_time: bool

    @property
    def prorated(self) -> bool:
        return not self.one_time and self.days != self.days_in_month


@dataclass
class LocationBill:
    location: ServiceLocation
    lines: list[BillLine] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class MonthlyBill:
    client: Client
    year: int
    month: int
    locations: list[LocationBill]
    tax_groups: list[TaxGroup]
    net: Decimal
    tax: Decimal
    total: Decimal

    @property
    def period_start(self) -> date:
        return period_bounds(self.year, self.month)[0]

    @property
    def period_end(self) -> date:
        return period_bounds(self.year, self.month)[1]

    @property
    def lines(self) -> list[BillLine]:
        return [line for location in self.locations for line in location.lines]


def describe_days(first: date, last: date, days: int, days_in_month: int) -> str:
    """`12–30 Nov, 19/30 days`; a single day is `30 Nov, 1/30 days`."""
    month = f"{last:%b}"
    span = f"{first.day} {month}" if first == last else f"{first.day}–{last.day} {month}"
    return f"{span}, {days}/{days_in_month} days"


def charge_for(
    subscription: Subscription, *, year: int, month: int, prices=None
) -> BillLine | None:
    """The line a subscription contributes to a month, or None if it contributes nothing.
    Public so that the billing run turns subscriptions into invoice lines the same way."""
    service = subscription.service
    dim = days_in_period(year, month)
    if not service.is_monthly:
        period_start, period_end = period_bounds(year, month)
        if not period_start <= subscription.start_date <= period_end:
            return None
        first = last = subscription.start_date
    else:
        span = overlap_with_period(
            start=subscription.start_date, end=subscription.end_date, year=year, month=month
        )
        if span is None:
            return None
        first, last = span
    unit_price, agreed = subscription_unit_price(subscription=subscription, on=first, prices=prices)
    if unit_price is None:
        return None  # the service had no price yet on that day: nothing can be charged
    full = line_net(quantity=subscription.quantity, unit_price=unit_price)
    days = days_inclusive(first, last)
    if service.is_monthly:
        net = prorate(amount=full, days_used=days, days_in_period=dim)
        description = service.name
        if days != dim:
            description = f"{service.name} — {describe_days(first, last, days, dim)}"
    else:
        net = full
        description = f"{service.name} — one-time, {first.day} {first:%b}"
    return BillLine(
        subscription=subscription,
        description=description,
        quantity=subscription.quantity,
        unit_price=unit_price,
        net=net,
        tax_rate=service.tax_rate,
        first_day=first,
        last_day=last,
        days=days,
        days_in_month=dim,
        agreed_price=agreed,
        one_time=not service.is_monthly,
    )


CATEGORY_ORDER = {value: index for index, value in enumerate(Service.Category.values)}


def _line_order(line: BillLine) -> tuple:
    """Internet, TV, phone, rentals, then one-time fees, as the catalog lists them."""
    service = line.subscription.service
    return (CATEGORY_ORDER.get(service.category, 99), service.name, line.subscription.pk)


def monthly_bill(
    *, client: Client, year: int | None = None, month: int | None = None
) -> MonthlyBill:
    """The bill of a client for a month (default: the current one). Two queries, whatever the
    number of locations and subscriptions."""
    if year is None or month is None:
        today = timezone.localdate()
        year, month = today.year, today.month
    period_start, period_end = period_bounds(year, month)
    subscriptions = (
        Subscription.objects.billable()
        .filter(location__client=client, start_date__lte=period_end)
        .exclude(end_date__lt=period_start)
        .select_related("service", "location")
        .prefetch_related("service__prices")
        .order_by("location__label", "location__pk", "service__name", "pk")
    )
    by_location: dict[int, LocationBill] = {}
    for subscription in subscriptions:
        line = charge_for(
            subscription, year=year, month=month, prices=subscription.service.prices.all()
        )
        if line is None:
            continue
        bill = by_location.setdefault(
            subscription.location_id, LocationBill(location=subscription.location)
        )
        bill.lines.append(line)
    locations = list(by_location.values())
    for location_bill in locations:
        location_bill.lines.sort(key=_line_order)
    all_lines = [line for location in locations for line in location.lines]
    net, tax, total = totals(all_lines)
    return MonthlyBill(
        client=client,
        year=year,
        month=month,
        locations=locations,
        tax_groups=tax_summary(all_lines),
        net=net,
        tax=tax,
        total=total,
    )
