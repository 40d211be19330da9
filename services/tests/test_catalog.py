"""The catalog: price history, the price in effect on any day, and the catalog rules."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from services.catalog import (
    catalog_for_clients,
    catalog_for_staff,
    create_service,
    deactivate_service,
    delete_service,
    price_in_effect,
    reactivate_service,
    set_price,
    update_service,
    withdraw_scheduled_price,
)
from services.models import Service, ServicePrice, Subscription

from .factories import ServiceFactory, ServicePriceFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def fiber():
    service = ServiceFactory(name="Fiber 1 Gig", price=False)
    for amount, day in [("79.99", date(2024, 1, 1)), ("84.99", date(2025, 3, 1))]:
        ServicePriceFactory(service=service, amount=D(amount), effective_from=day)
    return service


def test_price_in_effect_is_the_latest_price_not_after_the_day(fiber):
    assert price_in_effect(service=fiber, on=date(2023, 12, 31)) is None
    assert price_in_effect(service=fiber, on=date(2024, 1, 1)) == D("79.99")
    assert price_in_effect(service=fiber, on=date(2025, 2, 28)) == D("79.99")
    assert price_in_effect(service=fiber, on=date(2025, 3, 1)) == D("84.99")
    assert price_in_effect(service=fiber, on=date(2030, 1, 1)) == D("84.99")


def test_a_scheduled_price_applies_from_its_date_and_the_history_is_kept(fiber, today):
    set_price(service=fiber, amount=D("89.99"), effective_from=date(2025, 12, 1))
    assert price_in_effect(service=fiber, on=today) == D("84.99")
    assert price_in_effect(service=fiber, on=date(2025, 12, 1)) == D("89.99")
    assert list(fiber.prices.values_list("amount", flat=True)) == [
        D("89.99"),
        D("84.99"),
        D("79.99"),
    ]


def test_prefetched_history_gives_the_same_answer_without_queries(fiber, django_assert_num_queries):
    service = Service.objects.prefetch_related("prices").get(pk=fiber.pk)
    with django_assert_num_queries(0):
        assert price_in_effect(service=service, on=date(2025, 2, 28)) == D("79.99")
        assert price_in_effect(service=service, on=date(2025, 3, 1)) == D("84.99")


def test_a_price_cannot_be_changed_in_the_past(fiber, today):
    with pytest.raises(ValidationError) as exc:
        set_price(service=fiber, amount=D("1"), effective_from=date(2025, 11, 11))
    assert "today or later" in str(exc.value.message_dict["effective_from"])


def test_a_price_already_in_effect_today_is_never_edited(fiber, today):
    set_price(service=fiber, amount=D("85.99"), effective_from=today)
    with pytest.raises(ValidationError) as exc:
        set_price(service=fiber, amount=D("86.99"), effective_from=today)
    assert "never edited" in str(exc.value.message_dict["effective_from"])
    assert price_in_effect(service=fiber, on=today) == D("85.99")


def test_a_scheduled_price_may_be_replaced_or_withdrawn_before_its_day(fiber, today):
    set_price(service=fiber, amount=D("89.99"), effective_from=date(2026, 1, 1))
    set_price(service=fiber, amount=D("87.99"), effective_from=date(2026, 1, 1))
    assert fiber.prices.filter(effective_from=date(2026, 1, 1)).get().amount == D("87.99")
    withdraw_scheduled_price(price=fiber.prices.get(effective_from=date(2026, 1, 1)))
    assert price_in_effect(service=fiber, on=date(2026, 1, 1)) == D("84.99")
    with pytest.raises(ValidationError):
        withdraw_scheduled_price(price=fiber.prices.get(effective_from=date(2025, 3, 1)))


def test_the_database_refuses_two_prices_on_one_date_and_negative_prices(fiber):
    with pytest.raises(IntegrityError):
        ServicePrice.objects.create(service=fiber, amount=D("1"), effective_from=date(2024, 1, 1))


def test_the_database_refuses_a_negative_price(fiber):
    with pytest.raises(IntegrityError):
        ServicePrice.objects.create(service=fiber, amount=D("-1"), effective_from=date(2026, 1, 1))


def test_name_and_price_are_unique_among_active_services(fiber, today):
    twin = Service(name="fiber 1 gig", category=Service.Category.INTERNET)
    with pytest.raises(ValidationError) as exc:
        create_service(service=twin, price=D("84.99"), effective_from=today)
    assert "already costs $84.99" in str(exc.value.message_dict["price"])
    # Another price point of the same name is a separate catalog entry.
    create_service(service=twin, price=D("69.99"), effective_from=today)
    # Re-pricing it onto the other's price is refused too.
    with pytest.raises(ValidationError) as exc:
        set_price(service=twin, amount=D("84.99"), effective_from=date(2025, 12, 1))
    assert "one catalog entry per price point" in str(exc.value.message_dict["amount"])


def test_an_inactive_service_does_not_hold_its_price_point(fiber, today):
    deactivate_service(service=fiber)
    twin = create_service(
        service=Service(name="Fiber 1 Gig", category=Service.Category.INTERNET),
        price=D("84.99"),
        effective_from=today,
    )
    assert twin.pk
    with pytest.raises(ValidationError):
        reactivate_service(service=fiber)


def test_renaming_onto_an_active_price_point_is_refused(fiber, today):
    other = ServiceFactory(name="Fiber Gig", price=D("84.99"))
    other.name = "Fiber 1 Gig"
    with pytest.raises(ValidationError) as exc:
        update_service(service=other)
    assert "name" in exc.value.message_dict


def test_one_time_fees_must_bill_once(today):
    fee = Service(
        name="Installation",
        category=Service.Category.FEE,
        billing_cycle=Service.BillingCycle.MONTHLY,
    )
    with pytest.raises(ValidationError) as exc:
        create_service(service=fee, price=D("99"), effective_from=today)
    assert "billing_cycle" in exc.value.message_dict
    assert not Service.objects.filter(name="Installation").exists()


def test_the_billing_cycle_is_fixed_once_a_service_has_subscriptions(fiber):
    SubscriptionFactory(service=fiber)
    fiber.billing_cycle = Service.BillingCycle.ONE_TIME
    fiber.category = Service.Category.INTERNET
    with pytest.raises(ValidationError) as exc:
        update_service(service=fiber)
    assert "billing_cycle" in exc.value.message_dict


def test_new_services_take_the_company_tax_rate_by_default(settings):
    settings.DEFAULT_TAX_RATE = D("8.25")
    assert Service(name="X", category="tv").tax_rate == D("8.25")


def test_a_service_with_subscriptions_can_only_be_deactivated(fiber):
    SubscriptionFactory(service=fiber, status=Subscription.Status.CANCELLED)
    with pytest.raises(ValidationError) as exc:
        delete_service(service=fiber)
    assert "can only be deactivated" in exc.value.messages[0]
    assert Service.objects.filter(pk=fiber.pk).exists()


def test_a_service_without_subscriptions_is_deleted_with_its_prices(fiber):
    delete_service(service=fiber)
    assert not ServicePrice.objects.exists()


def test_staff_catalog_counts_active_subscribers_in_one_query(
    fiber, today, django_assert_num_queries
):
    SubscriptionFactory.create_batch(3, service=fiber)
    SubscriptionFactory(service=fiber, status=Subscription.Status.PENDING)
    SubscriptionFactory(service=fiber, status=Subscription.Status.CANCELLED)
    ServiceFactory(name="TV Basic")
    with django_assert_num_queries(1):
        rows = {s.name: s for s in catalog_for_staff()}
    assert rows["Fiber 1 Gig"].active_subscribers == 3
    assert rows["Fiber 1 Gig"].current_price == D("84.99")
    assert rows["TV Basic"].active_subscribers == 0


def test_clients_see_only_active_visible_priced_services(today):
    shown = ServiceFactory(name="Shown")
    ServiceFactory(name="Hidden", visible_to_clients=False)
    ServiceFactory(name="Retired", is_active=False)
    ServiceFactory(name="Unpriced", price=False)
    ServiceFactory(name="Not yet", price=False).prices.create(
        amount=D("9"), effective_from=date(2026, 1, 1)
    )
    assert list(catalog_for_clients()) == [shown]
