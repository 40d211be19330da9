"""The money functions every figure comes from: bills, invoices, receipts, reports (GUIDE §2).

Rules, in one place so that no page computes a figure its own way:
- `Decimal` only; a float passed in is refused, since it has already lost the cents.
- One rounding: half-up to the cent (ties away from zero, so -0.005 becomes -0.01 on a credit).
- Line amounts are rounded per line (`line_net`).
- Tax is computed per tax rate on the sum of the line nets of that rate, then rounded, as
  EN 16931 does (`tax_summary`); it is never the sum of per-line taxes.
- total = net + tax (`totals`).
- Proration is by days of a calendar-month billing period (`prorate`, `period_bounds`).

Tax rates are percentages (8.25 means 8.25 %), as `settings.DEFAULT_TAX_RATE` is.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import NamedTuple, Protocol

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def _require_decimal(value, name: str) -> Decimal:
    # bool is an int; a float has already lost precision: both are refused loudly.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}")
    return Decimal(value)


def round_money(value: Decimal) -> Decimal:
    """Half-up to the cent: 0.005 -> 0.01, 2.675 -> 2.68, -0.005 -> -0.01."""
    return _require_decimal(value, "value").quantize(CENT, rounding=ROUND_HALF_UP)


def money_from_db(value) -> Decimal:
    """An amount the database computed (a SUM, a difference) as Decimal cents; None (a sum of
    nothing) is zero. SQLite hands back arithmetic on decimals as floats: back through str()."""
    return round_money(Decimal(str(value if value is not None else 0)))


def line_net(*, quantity: Decimal | int, unit_price: Decimal) -> Decimal:
    """The net amount of one line, rounded on its own (quantity x unit price)."""
    quantity = _require_decimal(quantity, "quantity")
    unit_price = _require_decimal(unit_price, "unit_price")
    return round_money(quantity * unit_price)


class TaxableLine(Protocol):
    """Anything with a rounded net amount and a tax rate (percent): bill and invoice lines."""

    net: Decimal
    tax_rate: Decimal


@dataclass(frozen=True)
class MoneyLine:
    """The smallest TaxableLine, for callers that have only figures."""

    net: Decimal
    tax_rate: Decimal


class TaxGroup(NamedTuple):
    rate: Decimal
    net: Decimal
    tax: Decimal


class Totals(NamedTuple):
    net: Decimal
    tax: Decimal
    total: Decimal


def tax_for(*, net: Decimal, rate: Decimal) -> Decimal:
    """Tax on a net amount at a percentage rate, rounded half-up to the cent."""
    net = _require_decimal(net, "net")
    rate = _require_decimal(rate, "rate")
    return round_money(net * rate / HUNDRED)


def tax_summary(lines: Iterable[TaxableLine]) -> list[TaxGroup]:
    """One group per tax rate, lowest rate first: (rate, sum of line nets, tax on that sum)."""
    nets: dict[Decimal, Decimal] = {}
    for line in lines:
        # Decimal("8.25") and Decimal("8.250") are equal and hash alike: one group.
        rate = _require_decimal(line.tax_rate, "tax_rate")
        nets[rate] = nets.get(rate, ZERO) + _require_decimal(line.net, "net")
    return [
        TaxGroup(rate=rate, net=round_money(net), tax=tax_for(net=net, rate=rate))
        for rate, net in sorted(nets.items())
    ]


def totals(lines: Iterable[TaxableLine]) -> Totals:
    """(net, tax, total) of a document, with total = net + tax."""
    return totals_of_groups(tax_summary(lines))


def totals_of_groups(groups: Iterable[TaxGroup]) -> Totals:
    """(net, tax, total) from a `tax_summary` already at hand (the billing run computes it
    once per invoice and needs both)."""
    groups = list(groups)
    net = sum((group.net for group in groups), ZERO)
    tax = sum((group.tax for group in groups), ZERO)
    return Totals(net=net, tax=tax, total=net + tax)


def prorate(*, amount: Decimal, days_used: int, days_in_period: int) -> Decimal:
    """The share of `amount` for `days_used` out of `days_in_period` days, rounded to the cent.
    A whole period is the amount itself, to the cent."""
    amount = _require_decimal(amount, "amount")
    if days_in_period <= 0:
        raise ValueError("days_in_period must be positive")
    if not 0 <= days_used <= days_in_period:
        raise ValueError(f"days_used must be between 0 and {days_in_period}, not {days_used}")
    return round_money(amount * days_used / days_in_period)


# --- Billing periods: calendar months --------------------------------------------------------
# Cached: a billing run asks for the same month's bounds for each of 250,000 subscriptions.
@cache
def period_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day (inclusive) of a calendar-month billing period."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@cache
def days_in_period(year: int, month: int) -> int:
    """Number of days of the month: 28, 29, 30 or 31."""
    return calendar.monthrange(year, month)[1]


def days_inclusive(first: date, last: date) -> int:
    """Days from `first` to `last`, both counted: the same day is 1."""
    return (last - first).days + 1


def period_of(day: date) -> tuple[int, int]:
    """(year, month) of the billing period a day falls in."""
    return day.year, day.month


def next_period(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_period(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def overlap_with_period(
    *, start: date, end: date | None, year: int, month: int
) -> tuple[date, date] | None:
    """The days of [start, end] (end None = open) inside the period, or None if none are."""
    period_start, period_end = period_bounds(year, month)
    first = max(start, period_start)
    last = period_end if end is None else min(end, period_end)
    if last < first:
        return None
    return first, last


def end_of_period(day: date) -> date:
    """Last day of the billing period containing `day`."""
    return period_bounds(day.year, day.month)[1]


def start_of_next_period(day: date) -> date:
    return end_of_period(day) + timedelta(days=1)


# --- Display -------------------------------------------------------------------------------
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def format_money(amount: Decimal, currency: str | None = None) -> str:
    """`$1,234.50`, `-$5.00`; currencies without a symbol here show their code (`CHF 12.00`)."""
    if currency is None:
        from django.conf import settings

        currency = settings.CURRENCY
    amount = round_money(amount)
    sign = "-" if amount < 0 else ""
    figures = f"{abs(amount):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{figures}" if symbol else f"{sign}{currency} {figures}"


def format_rate(rate: Decimal) -> str:
    """A tax rate as a percentage without trailing zeros: 8.25%, 10%, 0%."""
    text = f"{_require_decimal(rate, 'rate'):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"
