"""Shared fixtures of the dashboard and report tests: a small catalog, subscriptions and a
ledger whose every figure is computed by hand in the docstrings."""

from datetime import date
from decimal import Decimal

import pytest

from clients.models import Client
from invoices.allocation import record_payment, refund_credit
from invoices.drafts import create_draft
from invoices.issuing import issue_invoice
from invoices.models import InvoiceLine
from invoices.tests.factories import line
from services.models import Service, ServicePrice, Subscription
from services.tests.factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

D = Decimal


@pytest.fixture
def catalog():
    gig = ServiceFactory(name="Fiber 1 Gig", price="89.99")
    ServicePrice.objects.create(service=gig, amount=D("94.99"), effective_from=date(2026, 11, 1))
    tv = ServiceFactory(name="TV Basic", price="25.50", category=Service.Category.TV)
    install = ServiceFactory(
        name="Installation", price="99.00", billing_cycle=Service.BillingCycle.ONE_TIME
    )
    return {"gig": gig, "tv": tv, "install": install}


@pytest.fixture
def subscriptions(catalog):
    """MRR on Oct 31 = 89.99 + 2 × 70.00 + 25.50 = 255.49;
    on Nov 30 = 94.99 (new list price) + 2 × 94.99 (agreed price ended Nov 15) = 284.97."""
    where = SubscriberLocationFactory()
    S = Subscription.Status
    SubscriptionFactory(service=catalog["gig"], location=where, start_date=date(2026, 1, 10))
    SubscriptionFactory(
        service=catalog["gig"],
        location=SubscriberLocationFactory(),
        quantity=2,
        agreed_price=D("70.00"),
        agreed_price_until=date(2026, 11, 15),
        start_date=date(2026, 10, 5),
    )
    SubscriptionFactory(
        service=catalog["tv"],
        location=where,
        start_date=date(2026, 6, 1),
        end_date=date(2026, 11, 10),
        status=S.CANCELLED,
    )
    SubscriptionFactory(service=catalog["install"], location=where, start_date=date(2026, 10, 1))
    SubscriptionFactory(
        service=catalog["tv"],
        location=SubscriberLocationFactory(),
        start_date=date(2026, 11, 20),
        status=S.PENDING,
    )
    SubscriptionFactory(
        service=catalog["gig"],
        location=SubscriberLocationFactory(),
        start_date=date(2026, 2, 1),
        status=S.SUSPENDED,
    )


@pytest.fixture
def ledger(catalog, alice_user, bob_user):
    """Invoiced: Oct 80.00; Nov 98.51 (2 × 45.50 + 8.25 % tax) + 120.00 = 218.51.
    Collected: Nov 50.00 + 150.00 = 200.00; a 10.00 refund on Dec 2.
    Lifetime value: Carol 140.00, Bob 50.00, Alice 0. Outstanding on Nov 30: Alice 80.00
    (overdue since Oct 20) + Bob 48.51 (due Dec 5) = 128.51; overdue 80.00."""
    alice = SubscriberFactory(user=alice_user, name="Alice Martin")
    bob = SubscriberFactory(user=bob_user, name="Bob Nguyen")
    carol = SubscriberFactory(name="Carol Diaz", segment=Client.Segment.BUSINESS)
    issue_invoice(
        invoice=create_draft(client=alice, lines=[line(unit_price="80.00")]),
        issue_date=date(2026, 10, 5),
    )
    bob_draft = create_draft(
        client=bob, lines=[line("Fiber 1 Gig", quantity="2", unit_price="45.50", tax_rate="8.25")]
    )
    bob_sub = SubscriptionFactory(
        service=catalog["gig"],
        location=SubscriberLocationFactory(client=bob),
        status=Subscription.Status.PENDING,
    )
    InvoiceLine.objects.filter(invoice=bob_draft).update(subscription=bob_sub)
    issue_invoice(invoice=bob_draft, issue_date=date(2026, 11, 20))
    issue_invoice(
        invoice=create_draft(client=carol, lines=[line(unit_price="120.00")]),
        issue_date=date(2026, 11, 3),
    )
    record_payment(client=bob, amount=D("50.00"), method="cash", received_on=date(2026, 11, 25))
    carol_payment = record_payment(
        client=carol, amount=D("150.00"), method="check", received_on=date(2026, 11, 10)
    )
    refund_credit(
        payment=carol_payment, amount=D("10.00"), reason="Overpaid", refunded_on=date(2026, 12, 2)
    )
    return {"alice": alice, "bob": bob, "carol": carol}
