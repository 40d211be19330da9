"""Payments: allocation to the cent, credit, refunds, reversals, bad input and the ledger
invariants (GUIDE §2, payments)."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.models import Client
from staff.models import AuditEntry

from ..allocation import (
    PaymentError,
    Pick,
    apply_client_credit,
    clean_amount,
    payment_recorded,
    record_payment,
    refund_credit,
    reverse_payment,
)
from ..credit_notes import create_credit_note
from ..ledger import client_balance, client_credit, figures_for, lifetime_value, open_balance
from ..models import Allocation, Invoice, LedgerEntryError, Payment, PaymentMethod, Refund
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def invoice_for(client, amount: str, *, due_in_days: int = 0) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    # Due dates decide the order of allocation: set them as the test needs.
    Invoice.objects.filter(pk=invoice.pk).update(due_date=TODAY + timedelta(days=due_in_days))
    invoice.refresh_from_db()
    return invoice


def pay(client, amount, **kwargs) -> Payment:
    kwargs.setdefault("method", PaymentMethod.CASH)
    kwargs.setdefault("received_on", TODAY)
    return record_payment(client=client, amount=amount, **kwargs)


def fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


# --- Allocation ------------------------------------------------------------------------------
def test_payment_goes_to_the_oldest_due_invoice_first_and_leaves_a_partial_balance():
    client = SubscriberFactory()
    newer = invoice_for(client, "60.00", due_in_days=-1)
    older = invoice_for(client, "49.99", due_in_days=-20)
    payment = pay(client, "75.00", reference="cash at the desk")

    assert payment.number == f"RCT-{TODAY.year}-000001"
    assert payment.amount_allocated == D("75.00")
    older, newer = fresh(older), fresh(newer)
    assert (older.amount_paid, older.balance, older.status) == (D("49.99"), D("0.00"), "paid")
    assert (newer.amount_paid, newer.balance) == (D("25.01"), D("34.99"))
    assert newer.status == Invoice.Status.PARTIALLY_PAID
    assert Client.objects.get(pk=client.pk).last_payment_date == TODAY
    assert client_balance(client) == D("34.99")
    assert open_balance(client) == D("34.99")


def test_staff_picks_invoices_and_amounts_and_the_rest_is_credit():
    client = SubscriberFactory()
    older = invoice_for(client, "40.00", due_in_days=-30)
    newer = invoice_for(client, "60.00", due_in_days=-1)
    payment = pay(client, "70.00", picks=[Pick(newer.pk, D("60.00")), Pick(older.pk, D("5.50"))])

    assert fresh(newer).status == Invoice.Status.PAID
    assert fresh(older).balance == D("34.50")
    assert Payment.objects.get(pk=payment.pk).unallocated == D("4.50")
    assert client_credit(client) == D("4.50")
    assert client_balance(client) == D("30.00")  # 100 invoiced − 70 paid


def test_overpayment_becomes_credit_that_pays_the_next_invoice_when_issued():
    client = SubscriberFactory()
    invoice_for(client, "50.00")
    payment = pay(client, "80.00")
    assert client_credit(client) == D("30.00")

    later = issued_invoice(client=client, lines=[line(unit_price="45.00")])
    assert (later.amount_paid, later.balance, later.status) == (
        D("30.00"),
        D("15.00"),
        "partially_paid",
    )
    assert Payment.objects.get(pk=payment.pk).unallocated == D("0.00")
    assert client_credit(client) == D("0.00")
    assert client_balance(client) == D("15.00")


def test_credit_note_credit_is_used_before_payment_credit():
    client = SubscriberFactory()
    paid = invoice_for(client, "20.00")
    pay(client, "30.00")  # 10.00 payment credit
    note = create_credit_note(invoice=fresh(paid), reason="Outage refund")  # 20.00 credit
    assert client_credit(client) == D("30.00")

    later = issued_invoice(client=client, lines=[line(unit_price="25.00")])
    assert later.status == Invoice.Status.PAID
    note.refresh_from_db()
    assert note.credit_used == D("20.00")
    assert client_credit(client) == D("5.00")
    sources = Allocation.objects.filter(invoice=later).order_by("pk")
    assert [(a.credit_note_id is not None, a.amount) for a in sources] == [
        (True, D("20.00")),
        (False, D("5.00")),
    ]


def test_a_provider_reference_records_one_payment_however_often_it_arrives():
    client = SubscriberFactory()
    invoice_for(client, "30.00")
    received = []

    def receiver(sender, payment, **kw):
        received.append(payment.pk)

    payment_recorded.connect(receiver, weak=False)
    try:
        first = pay(client, "30.00", provider="stripe", provider_reference="cs_test_1")
        again = [
            pay(client, "30.00", provider="stripe", provider_reference="cs_test_1")
            for _ in range(9)
        ]
    finally:
        # Only this test's receiver: clearing them all unhooked the app's own receivers
        # (the suspension lift) for every test that ran after this one.
        payment_recorded.disconnect(receiver)
    assert {p.pk for p in again} == {first.pk}
    assert Payment.objects.count() == 1 and received == [first.pk]
    assert client_balance(client) == D("0.00")


def test_payment_is_audited():
    client = SubscriberFactory()
    invoice = invoice_for(client, "10.00")
    payment = pay(client, "10.00")
    entry = AuditEntry.objects.get(action="payment.record")
    assert entry.object_id == str(payment.pk)
    assert entry.changes["allocations"] == [None, {invoice.number: "10.00"}]


# --- Refunds and reversals -------------------------------------------------------------------
def test_refund_gives_back_only_unused_credit():
    client = SubscriberFactory()
    invoice_for(client, "40.00")
    payment = pay(client, "100.00")
    with pytest.raises(PaymentError) as error:
        refund_credit(payment=payment, amount="60.01", reason="Asked for it back")
    assert error.value.field == "amount"
    refund_credit(payment=payment, amount="60.00", reason="Asked for it back")
    assert Payment.objects.get(pk=payment.pk).unallocated == D("0.00")
    assert client_balance(client) == D("0.00")
    assert lifetime_value(client) == D("40.00")


def test_reversing_a_payment_reopens_its_invoices_and_never_edits_history():
    client = SubscriberFactory()
    first = invoice_for(client, "30.00", due_in_days=-10)
    second = invoice_for(client, "20.00", due_in_days=-5)
    payment = pay(client, "50.00")
    reversal = reverse_payment(payment=payment, reason="Check bounced")

    assert reversal.kind == Refund.Kind.REVERSAL and reversal.amount == D("50.00")
    assert (fresh(first).balance, fresh(first).status) == (D("30.00"), "issued")
    assert (fresh(second).balance, fresh(second).status) == (D("20.00"), "issued")
    amounts = sorted(Allocation.objects.filter(payment=payment).values_list("amount", flat=True))
    assert amounts == [D("-30.00"), D("-20.00"), D("20.00"), D("30.00")]
    assert client_balance(client) == D("50.00")
    assert lifetime_value(client) == D("0.00")
    with pytest.raises(PaymentError):
        reverse_payment(payment=payment, reason="Again")


def test_reversal_lets_other_credit_cover_what_reopened():
    client = SubscriberFactory()
    invoice = invoice_for(client, "30.00")
    bounced = pay(client, "30.00")
    pay(client, "12.00")  # credit, nothing left to pay
    reverse_payment(payment=bounced, reason="Wrong client")
    assert fresh(invoice).balance == D("18.00")
    assert client_balance(client) == D("18.00")


def test_ledger_entries_cannot_be_edited_or_deleted():
    client = SubscriberFactory()
    invoice_for(client, "10.00")
    payment = pay(client, "10.00")
    payment.amount = D("1.00")
    with pytest.raises(LedgerEntryError):
        payment.save()
    with pytest.raises(LedgerEntryError):
        payment.delete()
    with pytest.raises(LedgerEntryError):
        Allocation.objects.get(payment=payment).delete()


# --- Bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "more than zero"),
        ("-5.00", "more than zero"),
        ("10.005", "two decimals"),
        ("ten", "number"),
        ("NaN", "number"),
        ("1e30", "too large"),
        (12.5, "number"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(value, message):
    with pytest.raises(PaymentError) as error:
        clean_amount(value)
    assert message in error.value.message and error.value.field == "amount"


def test_picks_that_are_forged_closed_or_too_large_save_nothing():
    alice, bob = SubscriberFactory(), SubscriberFactory()
    mine = invoice_for(alice, "50.00")
    bobs = invoice_for(bob, "50.00")
    closed = invoice_for(alice, "5.00")
    pay(alice, "5.00", picks=[Pick(closed.pk, D("5.00"))])
    count = Payment.objects.count()

    for picks, text in [
        ([Pick(bobs.pk, D("10.00"))], "open invoices of this client"),
        ([Pick(999999, D("10.00"))], "open invoices of this client"),
        ([Pick(closed.pk, D("1.00"))], "open invoices of this client"),
        ([Pick(mine.pk, D("50.01"))], "more than the balance"),
        ([Pick(mine.pk, D("10.00")), Pick(mine.pk, D("1.00"))], "listed twice"),
        ([Pick(mine.pk, D("0.001"))], "two decimals"),
    ]:
        with pytest.raises(PaymentError) as error:
            pay(alice, "20.00", picks=picks)
        assert text in error.value.message and error.value.field == "picks"
    with pytest.raises(PaymentError) as error:
        pay(alice, "20.00", picks=[Pick(mine.pk, D("30.00"))])
    assert "add up to more than the payment" in error.value.message
    with pytest.raises(PaymentError) as error:
        pay(alice, "20.00", received_on=TODAY + timedelta(days=1))
    assert error.value.field == "received_on"
    with pytest.raises(PaymentError) as error:
        pay(alice, "20.00", method="bitcoin")
    assert error.value.field == "method"
    with pytest.raises(PaymentError) as error:
        pay(alice, "20.00", method=PaymentMethod.CARD_ONLINE, card_last4="4242424242424242")
    assert error.value.field == "card_last4"

    assert Payment.objects.count() == count
    assert fresh(mine).balance == D("50.00") and fresh(bobs).balance == D("50.00")


# --- Invariants (hypothesis) -----------------------------------------------------------------
money = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), money),
        st.tuples(st.just("pay"), money),
        st.tuples(st.just("refund"), money),
        st.tuples(st.just("reverse"), st.just(D("0"))),
        st.tuples(st.just("credit_note"), st.just(D("0"))),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_ledger_invariants_hold_after_any_sequence(steps):
    client = SubscriberFactory()
    for kind, amount in steps:
        if kind == "invoice":
            issued_invoice(client=client, lines=[line(unit_price=str(amount))])
        elif kind == "pay":
            pay(client, amount)
        elif kind == "refund":
            payment = Payment.objects.filter(client=client, unallocated__gte=D("0.01")).first()
            if payment:
                refund_credit(payment=payment, amount=min(amount, payment.unallocated), reason="r")
        elif kind == "reverse":
            payment = Payment.objects.filter(client=client, amount_refunded=0).first()
            if payment:
                reverse_payment(payment=payment, reason="bounced")
        elif kind == "credit_note":
            invoice = Invoice.objects.filter(client=client, credited_total=0).first()
            if invoice:
                create_credit_note(invoice=invoice, reason="goodwill")

    for payment in Payment.objects.filter(client=client):
        allocated = sum(payment.allocations.values_list("amount", flat=True), D("0"))
        assert allocated == payment.amount_allocated <= payment.amount
        assert payment.unallocated >= 0
    for invoice in Invoice.objects.filter(client=client):
        allocated = sum(invoice.allocations.values_list("amount", flat=True), D("0"))
        assert invoice.amount_paid == allocated
        assert invoice.balance == invoice.total - invoice.amount_credited - allocated >= 0
    figures = figures_for(client)
    assert figures.balance == figures.invoiced - figures.credited - figures.paid + figures.refunded
    # What is owed on invoices minus unused credit is the client's balance, to the cent.
    owed = sum(Invoice.objects.filter(client=client).values_list("balance", flat=True), D("0"))
    assert figures.balance == owed - figures.credit
    assert apply_client_credit(client=client) == D("0")  # nothing left unapplied
