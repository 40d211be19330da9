"""Credit notes: their own series, whole lines, the balance first, then client credit."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from cms_project.company.models import get_company

from ..credit_notes import (
    create_credit_note,
    credit_from_credit_notes,
    remaining_lines,
    void_invoice,
)
from ..issuing import InvoiceError
from ..models import CreditNote, CreditNoteLine, ImmutableInvoiceError, Invoice
from .factories import draft_invoice, issued_invoice, line

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def invoice():
    return issued_invoice(
        lines=[
            line("Fiber 1 Gig", "1", "79.99", "8.25"),
            line("Router rental", "2", "5.99", "8.25"),
            line("Late fee", "1", "5.00", "0"),
        ]
    )


def test_a_full_credit_note_voids_the_invoice_and_clears_its_balance(invoice, staff_user):
    note = void_invoice(invoice=invoice, reason="Signed up by mistake", created_by=staff_user)
    invoice.refresh_from_db()
    assert note.number.startswith("CN-") and note.number.endswith("-000001")
    assert (note.net, note.tax, note.total) == (invoice.net, invoice.tax, invoice.total)
    assert note.amount_applied == invoice.total and note.amount_to_credit == D("0.00")
    assert invoice.status == Invoice.Status.VOID
    assert invoice.balance == D("0.00")
    assert note.lines.count() == 3
    assert note.client_name == invoice.client_name


def test_credit_notes_have_their_own_number_series(invoice):
    company = get_company()
    company.credit_note_prefix = "CR"
    company.save()
    first = create_credit_note(
        invoice=invoice, reason="Outage", line_ids=[invoice.lines.first().pk]
    )
    other = issued_invoice()
    second = void_invoice(invoice=other, reason="Duplicate")
    assert first.number[:-6] == second.number[:-6]
    assert (first.number[-6:], second.number[-6:]) == ("000001", "000002")
    assert first.number.startswith("CR-")
    assert invoice.number.startswith("INV-") and other.number.endswith("000002")


def test_crediting_some_lines_reduces_the_balance_by_their_amount(invoice):
    fiber = invoice.lines.get(description="Fiber 1 Gig")
    note = create_credit_note(invoice=invoice, reason="Outage credit", line_ids=[fiber.pk])
    invoice.refresh_from_db()
    assert (note.net, note.tax, note.total) == (D("79.99"), D("6.60"), D("86.59"))
    assert invoice.balance == invoice.total - D("86.59")
    assert invoice.status == Invoice.Status.ISSUED
    assert [line.description for line in remaining_lines(invoice)] == ["Router rental", "Late fee"]


def test_a_line_is_credited_only_once(invoice):
    fiber = invoice.lines.get(description="Fiber 1 Gig")
    create_credit_note(invoice=invoice, reason="Outage", line_ids=[fiber.pk])
    with pytest.raises(InvoiceError, match="not been credited"):
        create_credit_note(invoice=invoice, reason="Again", line_ids=[fiber.pk])
    with pytest.raises(IntegrityError):
        CreditNoteLine.objects.create(
            credit_note=CreditNote.objects.get(),
            invoice_line=fiber,
            description="x",
            quantity=1,
            unit_price=1,
            tax_rate=0,
            net=1,
        )


def test_crediting_an_invoice_in_parts_adds_up_to_it_to_the_cent():
    # Tax is rounded per document: 10.05 at 5 % is 0.5025 -> 0.50 on each part, but the
    # invoice's 20.10 at 5 % is 1.005 -> 1.01. The last credit note takes what is left.
    invoice = issued_invoice(lines=[line("A", "1", "10.05", "5"), line("B", "1", "10.05", "5")])
    assert invoice.tax == D("1.01")
    a, b = invoice.lines.all()
    first = create_credit_note(invoice=invoice, reason="Part 1", line_ids=[a.pk])
    last = create_credit_note(invoice=invoice, reason="Part 2", line_ids=[b.pk])
    assert (first.tax, last.tax) == (D("0.50"), D("0.51"))
    assert first.total + last.total == invoice.total
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID and invoice.balance == D("0.00")


def test_crediting_a_paid_invoice_becomes_client_credit(invoice):
    paid = Invoice.objects.get(pk=invoice.pk)
    paid.amount_paid = D("50.00")
    paid.status = Invoice.Status.PARTIALLY_PAID
    paid.save(update_fields=["amount_paid", "status"])
    note = void_invoice(invoice=paid, reason="Cancelled")
    paid.refresh_from_db()
    assert note.amount_applied == paid.total - D("50.00")
    assert note.amount_to_credit == D("50.00")
    assert paid.balance == D("0.00") and paid.status == Invoice.Status.VOID
    assert credit_from_credit_notes(paid.client) == D("50.00")


def test_drafts_and_fully_credited_invoices_cannot_be_credited(invoice):
    with pytest.raises(InvoiceError, match="draft"):
        void_invoice(invoice=draft_invoice(), reason="x")
    void_invoice(invoice=invoice, reason="Cancelled")
    with pytest.raises(InvoiceError, match="credited already"):
        void_invoice(invoice=invoice, reason="Again")


def test_a_credit_note_needs_a_reason_and_lines_of_its_own_invoice(invoice):
    with pytest.raises(InvoiceError, match="why"):
        void_invoice(invoice=invoice, reason="   ")
    other = issued_invoice()
    with pytest.raises(InvoiceError):
        create_credit_note(invoice=invoice, reason="x", line_ids=[other.lines.get().pk])
    with pytest.raises(InvoiceError):
        create_credit_note(invoice=invoice, reason="x", line_ids=[])


def test_credit_notes_are_immutable(invoice):
    note = void_invoice(invoice=invoice, reason="Cancelled")
    note.reason = "Changed"
    with pytest.raises(ImmutableInvoiceError):
        note.save()
    with pytest.raises(ImmutableInvoiceError):
        note.delete()
    with pytest.raises(ImmutableInvoiceError):
        note.lines.first().delete()
