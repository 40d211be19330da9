"""Suspension for non-payment after N days overdue, and the instant restore on payment."""

from datetime import date
from decimal import Decimal as D

import pytest

from cms_project.company.models import get_company
from cms_project.messaging.models import Delivery
from services.models import Subscription
from services.tests.factories import SubscriberLocationFactory, SubscriptionFactory
from staff.models import AuditEntry

from ..allocation import record_payment
from ..collections import run_collections
from ..credit_notes import create_credit_note
from ..models import NonPaymentSuspension, PaymentMethod
from ..reminders import pause_reminders
from ..suspension import open_suspension
from .factories import SubscriberFactory
from .test_reminders import at, make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


@pytest.fixture
def suspend_after_10():
    company = get_company()
    company.suspend_after_days = 10
    company.save()


@pytest.fixture
def account():
    """A client with two active services, a pending one and one staff suspended themselves,
    and an invoice of 80.00 due 20 December 2026."""
    client = SubscriberFactory(phone="+13125550101", consent_sms=True)
    location = SubscriberLocationFactory(client=client)
    subs = {
        "fiber": SubscriptionFactory(location=location),
        "tv": SubscriptionFactory(location=location),
        "pending": SubscriptionFactory(location=location, status=Subscription.Status.PENDING),
        "by_staff": SubscriptionFactory(location=location, status=Subscription.Status.SUSPENDED),
    }
    invoice = make_invoice(client)
    return client, invoice, subs


def statuses(subs) -> dict[str, tuple[str, bool]]:
    out = {}
    for name, sub in subs.items():
        sub.refresh_from_db()
        out[name] = (sub.status, sub.suspended_for_nonpayment)
    return out


def pay(client, amount, day):
    with at(day, 10):
        return record_payment(
            client=client, amount=D(amount), method=PaymentMethod.CASH, received_on=day
        )


def test_off_by_default(account):
    client, _, subs = account
    with at(date(2027, 3, 1)):
        assert run_collections()["suspended"] == 0
    assert statuses(subs)["fiber"] == ("active", False)


def test_suspended_on_day_n_past_due_then_restored_at_once_by_a_full_payment(
    account, suspend_after_10
):
    client, invoice, subs = account
    with at(date(2026, 12, 29)):
        assert run_collections()["suspended"] == 0  # 9 days past due
    with at(date(2026, 12, 30)):
        assert run_collections()["suspended"] == 1
        assert run_collections()["suspended"] == 0  # once
    assert statuses(subs) == {
        "fiber": ("suspended", True),
        "tv": ("suspended", True),
        "pending": ("pending", False),
        "by_staff": ("suspended", False),
    }
    suspension = open_suspension(client)
    assert suspension.overdue_amount == D("80.00") and suspension.subscriptions == 2
    assert AuditEntry.objects.filter(action="collections.suspend").count() == 1
    notices = Delivery.objects.filter(purpose="suspension")
    assert sorted(notices.values_list("channel", flat=True)) == ["email", "sms"]
    assert "$80.00 overdue" in notices.get(channel="email").subject

    payment = pay(client, "80.00", date(2026, 12, 31))
    # Restored in the payment's own transaction: no daily run needed.
    assert statuses(subs) == {
        "fiber": ("active", False),
        "tv": ("active", False),
        "pending": ("pending", False),
        "by_staff": ("suspended", False),  # staff's own suspension is not ours to lift
    }
    suspension.refresh_from_db()
    assert suspension.lifted_at is not None and suspension.lifted_by_payment == payment
    assert AuditEntry.objects.filter(action="collections.restore").count() == 1
    assert Delivery.objects.filter(purpose="suspension-lifted").count() == 2


def test_a_partial_payment_that_leaves_an_overdue_balance_keeps_the_suspension(
    account, suspend_after_10
):
    client, invoice, subs = account
    with at(date(2026, 12, 30)):
        run_collections()
    pay(client, "79.99", date(2026, 12, 31))
    assert statuses(subs)["fiber"] == ("suspended", True)
    assert open_suspension(client) is not None
    pay(client, "0.01", date(2026, 12, 31))
    assert statuses(subs)["fiber"] == ("active", False)
    assert open_suspension(client) is None


def test_an_invoice_not_yet_due_does_not_keep_services_suspended(account, suspend_after_10):
    client, invoice, subs = account
    with at(date(2026, 12, 30)):
        run_collections()
    make_invoice(client, "45.00", issued=date(2026, 12, 20), due=date(2027, 1, 20))
    pay(client, "80.00", date(2026, 12, 31))  # the overdue one, oldest due first
    assert statuses(subs)["fiber"] == ("active", False)


def test_a_credit_note_that_clears_the_overdue_balance_is_lifted_by_the_daily_run(
    account, suspend_after_10
):
    client, invoice, subs = account
    with at(date(2026, 12, 30)):
        run_collections()
    with at(date(2026, 12, 31)):
        create_credit_note(invoice=invoice, reason="Outage")  # no payment: no signal
    assert statuses(subs)["fiber"] == ("suspended", True)
    with at(date(2027, 1, 1)):
        assert run_collections()["lifted"] == 1
    assert statuses(subs)["fiber"] == ("active", False)


def test_a_promise_to_pay_prevents_suspension(account, suspend_after_10, staff_user):
    client, _, subs = account
    with at(date(2026, 12, 28)):
        pause_reminders(client=client, until=date(2027, 1, 5), by=staff_user)
    with at(date(2026, 12, 30)):
        assert run_collections()["suspended"] == 0
    with at(date(2027, 1, 5)):
        assert run_collections()["suspended"] == 1


def test_a_service_staff_resume_during_a_suspension_stays_on(account, suspend_after_10):
    from services.subscriptions import resume_subscription

    client, _, subs = account
    with at(date(2026, 12, 30)):
        run_collections()
    subs["tv"].refresh_from_db()
    resume_subscription(subscription=subs["tv"])
    with at(date(2026, 12, 31)):
        assert run_collections()["suspended"] == 0
    assert statuses(subs)["tv"][0] == "active"
    assert NonPaymentSuspension.objects.count() == 1
