"""Subscriptions: once per location, agreed prices, the life cycle and its dates."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from services.models import Service, Subscription
from services.subscriptions import (
    DuplicateSubscriptionError,
    activate_subscription,
    cancel_subscription,
    change_subscription,
    close_ended_subscriptions,
    resume_subscription,
    subscribe,
    subscribe_preview,
    subscription_unit_price,
    suspend_subscription,
)

from .factories import (
    RentalEquipmentFactory,
    ServiceFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
Status = Subscription.Status


@pytest.fixture
def location():
    return SubscriberLocationFactory()


@pytest.fixture
def fiber():
    return ServiceFactory(name="Fiber 1 Gig", price=D("89.99"))


# --- Once per location --------------------------------------------------------------------
@pytest.mark.parametrize("status", [Status.PENDING, Status.ACTIVE, Status.SUSPENDED])
def test_the_database_allows_one_open_subscription_per_service_and_location(
    fiber, location, status
):
    SubscriptionFactory(service=fiber, location=location, status=status)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(service=fiber, location=location, status=Status.ACTIVE)


def test_a_cancelled_subscription_does_not_block_a_new_one(fiber, location):
    SubscriptionFactory(
        service=fiber, location=location, status=Status.CANCELLED, end_date=date(2025, 5, 31)
    )
    SubscriptionFactory(service=fiber, location=location, status=Status.ACTIVE)
    SubscriptionFactory(service=fiber, status=Status.ACTIVE)  # another location
    SubscriptionFactory(location=location, status=Status.ACTIVE)  # another service
    assert Subscription.objects.open().count() == 3


def test_subscribing_twice_gives_a_clear_message_not_an_integrity_error(fiber, location, today):
    subscribe(service=fiber, location=location, start_date=today, status=Status.ACTIVE)
    with pytest.raises(DuplicateSubscriptionError) as exc:
        subscribe(service=fiber, location=location, start_date=today)
    assert "already has “Fiber 1 Gig”" in exc.value.messages[0]
    assert Subscription.objects.count() == 1


def test_the_constraint_decides_when_the_friendly_check_is_bypassed(
    fiber, location, today, monkeypatch
):
    # As when two requests race: both passed the check before either inserted.
    subscribe(service=fiber, location=location, start_date=today)
    monkeypatch.setattr("services.subscriptions.open_subscription_exists", _first_false())
    with pytest.raises(DuplicateSubscriptionError):
        subscribe(service=fiber, location=location, start_date=today)
    assert Subscription.objects.count() == 1


def _first_false():
    calls = []

    def fake(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            return False
        return Subscription.objects.open().filter(**kwargs).exists()

    return fake


@pytest.mark.parametrize(
    ("terms", "field", "message"),
    [
        ({"quantity": 0}, "quantity", "at least 1"),
        ({"end_date": date(2025, 11, 1)}, "end_date", "before the start date"),
        ({"agreed_price": D("-1")}, "agreed_price", "cannot be negative"),
        ({"agreed_price_until": date(2026, 1, 1)}, "agreed_price_until", "Set the agreed price"),
        (
            {"agreed_price": D("50"), "agreed_price_until": date(2025, 1, 1)},
            "agreed_price_until",
            "before the start date",
        ),
    ],
)
def test_bad_terms_are_refused_per_field(fiber, location, today, terms, field, message):
    with pytest.raises(ValidationError) as exc:
        subscribe(service=fiber, location=location, start_date=today, **terms)
    assert message in " ".join(exc.value.message_dict[field])
    assert not Subscription.objects.exists()


def test_the_database_refuses_quantity_zero_and_an_end_before_the_start(fiber, location):
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(service=fiber, location=location, quantity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(
            service=fiber, location=location, start_date=date(2025, 2, 1), end_date=date(2025, 1, 1)
        )


def test_an_inactive_service_cannot_be_subscribed(location, today):
    retired = ServiceFactory(is_active=False)
    with pytest.raises(ValidationError) as exc:
        subscribe(service=retired, location=location, start_date=today)
    assert "service" in exc.value.message_dict


def test_a_rental_is_linked_to_equipment_at_the_same_location(location, today):
    rental = ServiceFactory(name="Wi-Fi router rental", category=Service.Category.RENTAL)
    router = RentalEquipmentFactory(location=location)
    elsewhere = RentalEquipmentFactory()
    with pytest.raises(ValidationError) as exc:
        subscribe(service=rental, location=location, start_date=today, equipment=elsewhere)
    assert "not installed at this location" in exc.value.message_dict["equipment"][0]
    sub = subscribe(service=rental, location=location, start_date=today, equipment=router)
    assert router.rental_subscriptions.get() == sub


# --- Agreed prices ------------------------------------------------------------------------------
def test_an_agreed_price_replaces_the_list_price_while_in_force(fiber, location):
    sub = SubscriptionFactory(
        service=fiber,
        location=location,
        agreed_price=D("59.99"),
        agreed_price_until=date(2025, 12, 31),
    )
    assert subscription_unit_price(subscription=sub, on=date(2025, 12, 31)) == (D("59.99"), True)
    assert subscription_unit_price(subscription=sub, on=date(2026, 1, 1)) == (D("89.99"), False)


def test_an_agreed_price_without_end_date_holds_through_list_price_changes(fiber, location):
    sub = SubscriptionFactory(service=fiber, location=location, agreed_price=D("0.00"))
    fiber.prices.create(amount=D("99.99"), effective_from=date(2026, 6, 1))
    assert subscription_unit_price(subscription=sub, on=date(2030, 1, 1)) == (D("0.00"), True)


def test_changing_quantity_and_agreed_price(fiber, location):
    sub = SubscriptionFactory(service=fiber, location=location)
    change_subscription(
        subscription=sub, quantity=2, agreed_price=D("70.00"), agreed_price_until=None
    )
    sub.refresh_from_db()
    assert (sub.quantity, sub.agreed_price) == (2, D("70.00"))
    with pytest.raises(ValidationError):
        change_subscription(
            subscription=sub, quantity=0, agreed_price=None, agreed_price_until=None
        )


# --- Life cycle -------------------------------------------------------------------------------
def test_a_pending_request_is_activated_from_a_date(fiber, location, today):
    sub = subscribe(service=fiber, location=location, start_date=date(2025, 11, 1))
    assert sub.status == Status.PENDING
    activate_subscription(subscription=sub, start_date=today)
    sub.refresh_from_db()
    assert (sub.status, sub.start_date) == (Status.ACTIVE, today)
    with pytest.raises(ValidationError, match="cannot be activated"):
        activate_subscription(subscription=sub, start_date=today)


def test_suspend_and_resume(fiber, location):
    sub = SubscriptionFactory(service=fiber, location=location)
    suspend_subscription(subscription=sub)
    assert sub.status == Status.SUSPENDED
    with pytest.raises(ValidationError, match="cannot be suspended"):
        suspend_subscription(subscription=sub)
    resume_subscription(subscription=sub)
    assert sub.status == Status.ACTIVE


def test_cancelling_defaults_to_the_end_of_the_current_period(fiber, location, today):
    sub = SubscriptionFactory(service=fiber, location=location)
    cancel_subscription(subscription=sub)
    sub.refresh_from_db()
    assert sub.end_date == date(2025, 11, 30)
    assert sub.status == Status.ACTIVE  # it runs until then
    assert close_ended_subscriptions(today=date(2025, 11, 30)) == 0
    assert close_ended_subscriptions(today=date(2025, 12, 1)) == 1
    sub.refresh_from_db()
    assert sub.status == Status.CANCELLED


def test_a_cancellation_in_the_past_of_this_period_applies_at_once(fiber, location, today):
    sub = SubscriptionFactory(service=fiber, location=location)
    cancel_subscription(subscription=sub, effective_date=date(2025, 11, 5))
    assert (sub.status, sub.end_date) == (Status.CANCELLED, date(2025, 11, 5))


def test_a_cancellation_cannot_reach_into_an_earlier_period(fiber, location, today):
    sub = SubscriptionFactory(service=fiber, location=location)
    with pytest.raises(ValidationError) as exc:
        cancel_subscription(subscription=sub, effective_date=date(2025, 10, 31))
    assert "current billing period" in exc.value.message_dict["effective_date"][0]


def test_a_cancelled_pending_request_never_started(fiber, location, today):
    sub = subscribe(service=fiber, location=location, start_date=today)
    cancel_subscription(subscription=sub)
    assert (sub.status, sub.end_date) == (Status.CANCELLED, None)
    assert not Subscription.objects.billable().exists()


def test_a_one_time_fee_is_billed_on_its_day_and_then_ends(location, today):
    fee = ServiceFactory(
        name="Installation",
        category=Service.Category.FEE,
        billing_cycle=Service.BillingCycle.ONE_TIME,
        price=D("99.00"),
    )
    sub = subscribe(service=fee, location=location, start_date=today, status=Status.ACTIVE)
    assert sub.end_date == today


# --- Preview ---------------------------------------------------------------------------------
def test_the_subscribe_preview_prorates_the_rest_of_the_month(today):
    fiber = ServiceFactory(name="Fiber 1 Gig", price=D("89.99"), tax_rate=D("8.25"))
    fiber.prices.create(amount=D("94.99"), effective_from=date(2025, 12, 1))
    preview = subscribe_preview(service=fiber)
    # 12–30 Nov is 19 of 30 days: 89.99 x 19 / 30 = 56.99366... -> 56.99; tax 4.70
    assert (preview.first_day, preview.last_day, preview.days) == (
        today,
        date(2025, 11, 30),
        19,
    )
    assert preview.first_net == D("56.99")
    assert preview.first_tax == D("4.70")  # 56.99 x 8.25 % = 4.7016... -> 4.70
    assert preview.first_total == D("61.69")
    # From December, the price then in effect: 94.99 + 7.84 tax
    assert (preview.next_price, preview.next_tax, preview.next_total) == (
        D("94.99"),
        D("7.84"),
        D("102.83"),
    )


def test_the_nightly_task_closes_subscriptions_past_their_last_day(fiber, location, today):
    from services.tasks import close_ended_subscriptions as task

    ended = SubscriptionFactory(service=fiber, location=location, end_date=date(2025, 11, 11))
    running = SubscriptionFactory(service=fiber, end_date=date(2025, 11, 12))
    assert task.delay().get() == 1
    ended.refresh_from_db()
    running.refresh_from_db()
    assert (ended.status, running.status) == (Status.CANCELLED, Status.ACTIVE)
