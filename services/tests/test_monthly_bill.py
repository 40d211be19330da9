"""The monthly bill of a client, to the cent."""

from datetime import date
from decimal import Decimal

import pytest

from services.models import Service, Subscription
from services.monthly_bill import monthly_bill

from .factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
Status = Subscription.Status


@pytest.fixture
def client_with_two_locations():
    client = SubscriberFactory(name="Alice Martin")
    home = SubscriberLocationFactory(client=client, label="Home", street="12 Oak Street")
    shop = SubscriberLocationFactory(client=client, label="Shop", street="3 Main Street")
    return client, home, shop


def test_the_monthly_bill_to_the_cent(client_with_two_locations):
    client, home, shop = client_with_two_locations
    gig = ServiceFactory(name="Fiber 1 Gig", price=D("79.99"), tax_rate=D("8.25"))
    gig.prices.create(amount=D("89.99"), effective_from=date(2025, 10, 1))
    tv = ServiceFactory(
        name="TV Basic", category=Service.Category.TV, price=D("24.50"), tax_rate=D("8.25")
    )
    phone = ServiceFactory(
        name="Home Phone", category=Service.Category.PHONE, price=D("19.99"), tax_rate=D("0")
    )
    mesh = ServiceFactory(
        name="Mesh unit rental",
        category=Service.Category.RENTAL,
        price=D("5.99"),
        tax_rate=D("8.25"),
    )
    install = ServiceFactory(
        name="Installation",
        category=Service.Category.FEE,
        billing_cycle=Service.BillingCycle.ONE_TIME,
        price=D("99.00"),
        tax_rate=D("8.25"),
    )
    # Home: the whole month at the November price, two mesh units, TV with an agreed price.
    SubscriptionFactory(service=gig, location=home, start_date=date(2024, 5, 1))
    SubscriptionFactory(service=mesh, location=home, quantity=2, start_date=date(2024, 5, 1))
    SubscriptionFactory(
        service=tv,
        location=home,
        start_date=date(2024, 5, 1),
        agreed_price=D("19.00"),
        agreed_price_until=date(2025, 12, 31),
    )
    # Shop: started on the 12th (prorated), phone cancelled on the 10th, installed on the 12th.
    SubscriptionFactory(service=gig, location=shop, start_date=date(2025, 11, 12))
    SubscriptionFactory(
        service=phone,
        location=shop,
        start_date=date(2025, 1, 1),
        end_date=date(2025, 11, 10),
        status=Status.CANCELLED,
    )
    SubscriptionFactory(
        service=install, location=shop, start_date=date(2025, 11, 12), end_date=date(2025, 11, 12)
    )
    # Not billed: pending, suspended, cancelled before the month, starting next month.
    SubscriptionFactory(service=phone, location=home, status=Status.PENDING)
    SubscriptionFactory(service=ServiceFactory(), location=home, status=Status.SUSPENDED)
    SubscriptionFactory(
        service=ServiceFactory(),
        location=home,
        status=Status.CANCELLED,
        end_date=date(2025, 10, 31),
    )
    SubscriptionFactory(service=ServiceFactory(), location=shop, start_date=date(2025, 12, 1))

    bill = monthly_bill(client=client, year=2025, month=11)

    lines = [(line.description, line.quantity, line.unit_price, line.net) for line in bill.lines]
    assert lines == [
        # Home
        ("Fiber 1 Gig", 1, D("89.99"), D("89.99")),
        ("TV Basic", 1, D("19.00"), D("19.00")),
        ("Mesh unit rental", 2, D("5.99"), D("11.98")),
        # Shop: 89.99 x 19/30 = 56.99366 -> 56.99; 19.99 x 10/30 = 6.66333 -> 6.66
        ("Fiber 1 Gig — 12–30 Nov, 19/30 days", 1, D("89.99"), D("56.99")),
        ("Home Phone — 1–10 Nov, 10/30 days", 1, D("19.99"), D("6.66")),
        ("Installation — one-time, 12 Nov", 1, D("99.00"), D("99.00")),
    ]
    assert [loc.location.label for loc in bill.locations] == ["Home", "Shop"]
    assert [loc.net for loc in bill.locations] == [D("120.97"), D("162.65")]
    assert bill.lines[1].agreed_price
    # 8.25 %: 89.99 + 19.00 + 11.98 + 56.99 + 99.00 = 276.96 -> tax 22.8492 -> 22.85
    assert [(g.rate, g.net, g.tax) for g in bill.tax_groups] == [
        (D("0"), D("6.66"), D("0.00")),
        (D("8.25"), D("276.96"), D("22.85")),
    ]
    assert (bill.net, bill.tax, bill.total) == (D("283.62"), D("22.85"), D("306.47"))


def test_past_and_future_months_use_the_prices_then_in_effect(client_with_two_locations):
    client, home, _ = client_with_two_locations
    gig = ServiceFactory(name="Fiber 1 Gig", price=D("79.99"))
    gig.prices.create(amount=D("89.99"), effective_from=date(2025, 10, 1))
    gig.prices.create(amount=D("94.99"), effective_from=date(2026, 1, 15))
    SubscriptionFactory(service=gig, location=home, start_date=date(2024, 5, 1))
    assert monthly_bill(client=client, year=2025, month=9).total == D("79.99")
    assert monthly_bill(client=client, year=2025, month=10).total == D("89.99")
    # A change in the middle of a month applies from the next month.
    assert monthly_bill(client=client, year=2026, month=1).total == D("89.99")
    assert monthly_bill(client=client, year=2026, month=2).total == D("94.99")


def test_an_agreed_price_ends_with_its_end_date(client_with_two_locations):
    client, home, _ = client_with_two_locations
    gig = ServiceFactory(name="Fiber 1 Gig", price=D("89.99"))
    SubscriptionFactory(
        service=gig,
        location=home,
        start_date=date(2025, 1, 1),
        agreed_price=D("49.99"),
        agreed_price_until=date(2025, 6, 30),
    )
    assert monthly_bill(client=client, year=2025, month=6).total == D("49.99")
    assert monthly_bill(client=client, year=2025, month=7).total == D("89.99")


def test_february_and_leap_years_prorate_by_their_own_length(client_with_two_locations):
    client, home, _ = client_with_two_locations
    gig = ServiceFactory(name="Fiber 300", price=D("49.99"))
    SubscriptionFactory(service=gig, location=home, start_date=date(2024, 2, 15))
    leap = monthly_bill(client=client, year=2024, month=2)
    assert leap.lines[0].description == "Fiber 300 — 15–29 Feb, 15/29 days"
    assert leap.total == D("25.86")
    home.subscriptions.update(start_date=date(2025, 2, 15))
    assert monthly_bill(client=client, year=2025, month=2).total == D("25.00")  # 24.995


def test_a_single_day_and_the_last_day(client_with_two_locations):
    client, home, _ = client_with_two_locations
    gig = ServiceFactory(name="Fiber 1 Gig", price=D("89.99"))
    SubscriptionFactory(service=gig, location=home, start_date=date(2025, 12, 31))
    bill = monthly_bill(client=client, year=2025, month=12)
    assert bill.lines[0].description == "Fiber 1 Gig — 31 Dec, 1/31 days"
    assert bill.total == D("2.90")


def test_the_bill_of_the_current_month_is_the_default(client_with_two_locations, today):
    client, home, _ = client_with_two_locations
    SubscriptionFactory(service=ServiceFactory(price=D("30.00")), location=home, start_date=today)
    bill = monthly_bill(client=client)
    assert (bill.year, bill.month) == (2025, 11)
    assert bill.total == D("19.00")  # 30.00 x 19/30


def test_a_client_is_billed_only_for_their_own_locations(client_with_two_locations):
    client, home, _ = client_with_two_locations
    SubscriptionFactory(location=home)
    SubscriptionFactory()  # someone else's
    assert len(monthly_bill(client=client, year=2025, month=11).lines) == 1


def test_the_bill_takes_a_constant_number_of_queries(
    client_with_two_locations, django_assert_num_queries
):
    client, home, shop = client_with_two_locations
    for location in (home, shop):
        for _ in range(5):
            SubscriptionFactory(location=location)
    with django_assert_num_queries(2):
        bill = monthly_bill(client=client, year=2025, month=11)
        assert len(bill.lines) == 10
