"""The Stripe redirect and the webhook for one checkout arriving at the same moment, on
PostgreSQL with real threads: one payment, the other path finds it."""

from decimal import Decimal as D

import pytest

from ..models import Invoice, OnlineCheckout, Payment
from ..online import complete_checkout
from ..providers import PaidSession
from .factories import SubscriberFactory, issued_invoice, line
from .test_payment_concurrency import run_together

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def test_four_completions_of_one_checkout_at_once_record_one_payment():
    client = SubscriberFactory()
    invoice = issued_invoice(client=client, lines=[line(unit_price="100.00")])
    checkout = OnlineCheckout.objects.create(
        client=client,
        provider="stripe",
        session_id="cs_test_race",
        amount=D("60.00"),
        currency="USD",
        allocations=[{"invoice_id": invoice.pk, "number": invoice.number, "amount": "60.00"}],
    )
    paid = PaidSession(session_id="cs_test_race", amount=D("60.00"), currency="USD")

    def complete():
        return complete_checkout(checkout=OnlineCheckout.objects.get(pk=checkout.pk), paid=paid)

    results, errors = run_together(complete, [()] * 4)
    assert errors == []
    assert len({payment.pk for payment in results}) == 1
    assert Payment.objects.count() == 1
    assert Invoice.objects.get(pk=invoice.pk).balance == D("40.00")
