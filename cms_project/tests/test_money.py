"""The money functions: hand-computed cases to the cent, then properties over many inputs."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_project.money import (
    MoneyLine,
    TaxGroup,
    days_in_period,
    days_inclusive,
    end_of_period,
    format_money,
    format_rate,
    line_net,
    money_from_db,
    next_period,
    overlap_with_period,
    period_bounds,
    previous_period,
    prorate,
    round_money,
    tax_summary,
    totals,
)

D = Decimal


# --- Hand-computed cases ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        ("2.675", "2.68"),  # the classic float trap: Decimal keeps the 5
        ("0.005", "0.01"),
        ("0.0049", "0.00"),
        ("1.005", "1.01"),
        ("-0.005", "-0.01"),  # half-up means ties away from zero, credits included
        ("-2.675", "-2.68"),
        ("10", "10.00"),
        ("56.993666", "56.99"),
    ],
)
def test_round_money_rounds_half_up_to_the_cent(value, rounded):
    assert round_money(D(value)) == D(rounded)
    assert str(round_money(D(value))) == rounded


def test_round_money_refuses_floats_which_have_already_lost_the_cents():
    with pytest.raises(TypeError):
        round_money(2.675)
    with pytest.raises(TypeError):
        line_net(quantity=1, unit_price=9.99)


def test_line_net_is_rounded_per_line():
    assert line_net(quantity=3, unit_price=D("33.333")) == D("100.00")
    assert line_net(quantity=2, unit_price=D("49.995")) == D("99.99")
    assert line_net(quantity=1, unit_price=D("89.99")) == D("89.99")


def test_tax_is_computed_on_the_sum_per_rate_not_summed_per_line():
    lines = [MoneyLine(net=D("0.10"), tax_rate=D("8.25"))] * 3
    # Per line: 0.00825 -> 0.01, three times 0.03. On the sum: 0.30 x 8.25 % = 0.02475 -> 0.02.
    assert tax_summary(lines) == [TaxGroup(D("8.25"), D("0.30"), D("0.02"))]
    assert totals(lines) == (D("0.30"), D("0.02"), D("0.32"))


def test_tax_summary_has_one_group_per_rate_lowest_first():
    lines = [
        MoneyLine(net=D("49.99"), tax_rate=D("8.25")),
        MoneyLine(net=D("5.00"), tax_rate=D("0")),
        MoneyLine(net=D("10.00"), tax_rate=D("8.250")),  # same rate, other spelling
    ]
    assert tax_summary(lines) == [
        TaxGroup(D("0"), D("5.00"), D("0.00")),
        # 59.99 x 8.25 % = 4.949175 -> 4.95
        TaxGroup(D("8.25"), D("59.99"), D("4.95")),
    ]
    net, tax, total = totals(lines)
    assert (net, tax, total) == (D("64.99"), D("4.95"), D("69.94"))


def test_totals_of_nothing_are_zero():
    assert totals([]) == (D("0.00"), D("0.00"), D("0.00"))


def test_a_prorated_month_of_thirty_days():
    # Fiber 1 Gig at 89.99 from 12 to 30 November: 19 of 30 days = 56.99366... -> 56.99
    assert days_inclusive(date(2025, 11, 12), date(2025, 11, 30)) == 19
    assert prorate(amount=D("89.99"), days_used=19, days_in_period=30) == D("56.99")


def test_february_has_twenty_eight_days_and_a_half_cent_rounds_up():
    assert days_in_period(2025, 2) == 28
    # 49.99 from 15 to 28 Feb: 14/28 of it is exactly 24.995 -> 25.00
    days = days_inclusive(date(2025, 2, 15), date(2025, 2, 28))
    assert days == 14
    assert prorate(amount=D("49.99"), days_used=days, days_in_period=28) == D("25.00")


def test_february_of_a_leap_year_has_twenty_nine_days():
    assert days_in_period(2024, 2) == 29
    assert period_bounds(2024, 2) == (date(2024, 2, 1), date(2024, 2, 29))
    # 49.99 from 15 to 29 Feb 2024: 15/29 = 25.856896... -> 25.86
    assert prorate(amount=D("49.99"), days_used=15, days_in_period=29) == D("25.86")


def test_a_single_day():
    assert days_inclusive(date(2025, 12, 31), date(2025, 12, 31)) == 1
    # 89.99 / 31 = 2.9029... -> 2.90
    assert prorate(amount=D("89.99"), days_used=1, days_in_period=31) == D("2.90")


def test_starting_on_the_first_and_ending_mid_month():
    days = days_inclusive(date(2025, 11, 1), date(2025, 11, 10))
    # 89.99 x 10 / 30 = 29.99666... -> 30.00
    assert prorate(amount=D("89.99"), days_used=days, days_in_period=30) == D("30.00")


def test_a_whole_month_from_the_first_to_the_last_day_is_the_full_price():
    first, last = period_bounds(2025, 1)
    assert prorate(amount=D("89.99"), days_used=days_inclusive(first, last), days_in_period=31) == (
        D("89.99")
    )


def test_prorate_refuses_impossible_day_counts():
    with pytest.raises(ValueError):
        prorate(amount=D("10"), days_used=31, days_in_period=30)
    with pytest.raises(ValueError):
        prorate(amount=D("10"), days_used=-1, days_in_period=30)
    with pytest.raises(ValueError):
        prorate(amount=D("10"), days_used=0, days_in_period=0)


def test_overlap_with_period_clips_a_subscription_to_the_month():
    assert overlap_with_period(start=date(2025, 11, 12), end=None, year=2025, month=11) == (
        date(2025, 11, 12),
        date(2025, 11, 30),
    )
    assert overlap_with_period(
        start=date(2025, 10, 1), end=date(2025, 11, 10), year=2025, month=11
    ) == (date(2025, 11, 1), date(2025, 11, 10))
    assert overlap_with_period(start=date(2025, 12, 1), end=None, year=2025, month=11) is None
    assert (
        overlap_with_period(start=date(2025, 1, 1), end=date(2025, 10, 31), year=2025, month=11)
        is None
    )


def test_periods_roll_over_the_year():
    assert next_period(2025, 12) == (2026, 1)
    assert previous_period(2026, 1) == (2025, 12)
    assert end_of_period(date(2024, 2, 10)) == date(2024, 2, 29)


def test_money_and_rates_are_shown_the_same_way_everywhere(settings):
    settings.CURRENCY = "USD"
    assert format_money(D("1234.5")) == "$1,234.50"
    assert format_money(D("-5")) == "-$5.00"
    assert format_money(D("12"), "CHF") == "CHF 12.00"
    assert format_rate(D("8.250")) == "8.25%"
    assert format_rate(D("10.00")) == "10%"
    assert format_rate(D("0")) == "0%"


# --- Properties --------------------------------------------------------------------------------
amounts = st.decimals(min_value=D("-100000"), max_value=D("100000"), places=6)
prices = st.decimals(min_value=D("0"), max_value=D("10000"), places=2)
rates = st.sampled_from([D("0"), D("5"), D("8.25"), D("8.875"), D("10"), D("20")])
lines_strategy = st.lists(
    st.builds(
        MoneyLine,
        net=st.decimals(min_value=D("-1000"), max_value=D("10000"), places=2),
        tax_rate=rates,
    ),
    max_size=30,
)
months = st.tuples(st.integers(min_value=1990, max_value=2100), st.integers(1, 12))


@given(amounts)
def test_rounding_is_to_the_cent_within_half_a_cent_and_idempotent(value):
    rounded = round_money(value)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= D("0.005")
    assert round_money(rounded) == rounded


@given(st.integers(min_value=0, max_value=1000), prices)
def test_a_line_of_whole_cents_is_exact(quantity, unit_price):
    assert line_net(quantity=quantity, unit_price=unit_price) == quantity * unit_price


@given(lines_strategy)
def test_totals_add_up_and_tax_never_depends_on_line_order(lines):
    net, tax, total = totals(lines)
    assert total == net + tax
    assert net == sum((line.net for line in lines), D("0"))
    assert tax == sum((group.tax for group in tax_summary(lines)), D("0"))
    assert totals(list(reversed(lines))) == (net, tax, total)
    for group in tax_summary(lines):
        assert group.tax == round_money(group.net * group.rate / 100)


@given(lines_strategy)
def test_tax_on_the_sum_is_within_half_a_cent_per_rate_of_the_exact_tax(lines):
    exact = sum((line.net * line.tax_rate / 100 for line in lines), D("0"))
    groups = tax_summary(lines)
    assert abs(totals(lines).tax - exact) <= D("0.005") * len(groups)


@given(prices, st.integers(min_value=28, max_value=31), st.data())
def test_proration_is_bounded_monotone_and_whole_at_the_ends(amount, period_days, data):
    days = data.draw(st.integers(min_value=0, max_value=period_days))
    share = prorate(amount=amount, days_used=days, days_in_period=period_days)
    assert D("0") <= share <= amount
    assert prorate(amount=amount, days_used=0, days_in_period=period_days) == D("0.00")
    assert prorate(amount=amount, days_used=period_days, days_in_period=period_days) == amount
    if days < period_days:
        assert share <= prorate(amount=amount, days_used=days + 1, days_in_period=period_days)
    # Splitting a month in two never gains or loses more than a cent.
    rest = prorate(amount=amount, days_used=period_days - days, days_in_period=period_days)
    assert abs(share + rest - amount) <= D("0.01")


@given(months)
def test_a_period_is_a_whole_calendar_month(year_month):
    year, month = year_month
    first, last = period_bounds(year, month)
    assert first.day == 1
    assert (last + timedelta(days=1)).day == 1
    assert days_inclusive(first, last) == days_in_period(year, month)
    assert 28 <= days_in_period(year, month) <= 31
    assert period_bounds(*next_period(year, month))[0] == last + timedelta(days=1)
    assert previous_period(*next_period(year, month)) == (year, month)


def test_an_amount_from_the_database_comes_back_as_cents():
    assert money_from_db(None) == Decimal("0.00")  # a SUM over no rows
    assert money_from_db(0.1 + 0.2) == Decimal("0.30")  # SQLite's float arithmetic
    assert money_from_db(Decimal("2.675")) == Decimal("2.68")  # half up
    assert money_from_db(Decimal("-12.5")) == Decimal("-12.50")
