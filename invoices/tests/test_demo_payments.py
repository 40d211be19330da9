"""Demo payments: most invoices paid, Alice's newest partly, Bob's second overdue; once."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine

from cms_project.messaging.models import Delivery
from staff.tests.factories import UserFactory

from ..demo import seed_demo_company_payments, seed_demo_invoices
from ..models import Invoice, Payment
from .factories import SubscriberFactory, SubscriberLocationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def demo_client(email: str, *, login: bool = True):
    user = UserFactory(email=email) if login else None
    client = SubscriberFactory(email=email, user=user)
    SubscriptionFactory(
        location=SubscriberLocationFactory(client=client), start_date=date(2024, 1, 1)
    )
    return client


def test_demo_payments_leave_alice_partly_paid_and_bob_overdue_and_run_once():
    alice = demo_client("client@dataplusfiber.example")
    bob = demo_client("client2@dataplusfiber.example")
    other = demo_client("jo.lee.3@demo.dataplusfiber.example", login=False)
    generated = demo_client("someone@example.net", login=False)
    with time_machine.travel("2026-12-04 12:00:00-06:00", tick=False):
        seed_demo_invoices()
        assert seed_demo_company_payments() == 3 + 1 + 2
        assert seed_demo_company_payments() == 0
        today = date(2026, 12, 4)

        def statuses(client):
            return [i.status for i in Invoice.objects.filter(client=client).order_by("due_date")]

        assert statuses(alice) == ["paid", "paid", "partially_paid"]
        newest = Invoice.objects.filter(client=alice).order_by("due_date").last()
        assert newest.balance == newest.total - (newest.total / 2).quantize(D("0.01"))
        assert statuses(bob) == ["paid", "issued", "issued"]
        assert [i.is_overdue_on(today) for i in Invoice.objects.filter(client=bob)
                .order_by("due_date")] == [False, True, False]  # fmt: skip
        assert statuses(other) == ["paid", "paid", "issued"]
        assert statuses(generated) == ["issued", "issued", "issued"]
        assert all(p.received_on <= today for p in Payment.objects.all())
    assert not Delivery.objects.exists()  # no receipt sent to the demo clients
