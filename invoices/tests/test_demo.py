"""Demo invoices: the last months billed, once."""

from datetime import date

import pytest
import time_machine

from ..demo import seed_demo_invoices
from ..models import Invoice
from .factories import SubscriberLocationFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_the_demo_bills_the_last_three_months_once():
    SubscriptionFactory(location=SubscriberLocationFactory(), start_date=date(2024, 1, 1))
    with time_machine.travel("2026-11-20 12:00:00-06:00", tick=False):
        assert seed_demo_invoices() == 3
        assert seed_demo_invoices() == 0
    invoices = Invoice.objects.order_by("number")
    assert [(i.period_month, i.issue_date) for i in invoices] == [
        (8, date(2026, 9, 1)),
        (9, date(2026, 10, 1)),
        (10, date(2026, 11, 1)),
    ]
    assert [i.number[-6:] for i in invoices] == ["000001", "000002", "000003"]
    assert invoices[0].is_overdue_on(date(2026, 11, 20))


def test_running_the_demo_again_adds_no_empty_billing_runs():
    from ..models import BillingRun

    SubscriptionFactory(location=SubscriberLocationFactory(), start_date=date(2024, 1, 1))
    with time_machine.travel("2026-11-20 12:00:00-06:00", tick=False):
        seed_demo_invoices()
        seed_demo_invoices()
    assert BillingRun.objects.count() == 3
