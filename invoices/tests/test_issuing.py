"""Issuing: numbers, copies of the client and company details, figures, immutability."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from cms_project.company.models import get_company

from ..issuing import InvoiceError, issue_invoice
from ..models import ImmutableInvoiceError, Invoice, InvoiceLine, NumberCounter
from ..numbering import next_number
from .factories import SubscriberFactory, draft_invoice, issued_invoice, line

pytestmark = pytest.mark.django_db


def test_numbers_follow_the_series_prefix_and_year_with_six_digits():
    with transaction.atomic():
        assert next_number(series="INV", year=2026) == "INV-2026-000001"
        assert next_number(series="INV", year=2026) == "INV-2026-000002"
        assert next_number(series="INV", year=2027) == "INV-2027-000001"
        assert next_number(series="CN", year=2026) == "CN-2026-000001"


@pytest.mark.django_db(transaction=True)
def test_numbers_are_refused_outside_a_transaction():
    with pytest.raises(RuntimeError):
        next_number(series="INV", year=2026)


def test_a_rolled_back_issue_gives_its_number_back():
    first = issued_invoice()
    draft = draft_invoice()
    with pytest.raises(RuntimeError), transaction.atomic():
        issue_invoice(invoice=draft)
        raise RuntimeError("something after issuing failed")
    draft.refresh_from_db()
    assert draft.is_draft and draft.number == ""
    again = issue_invoice(invoice=draft)
    year = date.today().year
    assert first.number == f"INV-{year}-000001"
    assert again.number == f"INV-{year}-000002"
    assert NumberCounter.objects.get(series="INV", year=year).last_number == 2


def test_issuing_uses_the_company_prefix_and_payment_terms():
    company = get_company()
    company.invoice_prefix = "DPF"
    company.payment_terms_days = 30
    company.save()
    invoice = issued_invoice(issue_date=date(2026, 11, 30))
    assert invoice.number == "DPF-2026-000001"
    assert invoice.issue_date == date(2026, 11, 30)
    assert invoice.due_date == date(2026, 11, 30) + timedelta(days=30)


def test_issuing_copies_the_client_and_company_details_that_later_edits_do_not_change():
    company = get_company()
    company.name = "Data Plus Fiber LLC"
    company.address = "100 Main Street\nSpringfield, IL 62701"
    company.tax_id = "US-12-3456789"
    company.payment_instructions = "Bank transfer to ACME Bank 123-456"
    company.save()
    client = SubscriberFactory(
        name="Alice Martin",
        billing_street="12 Oak Street",
        billing_city="Springfield",
        billing_postal_code="62704",
    )
    invoice = issued_invoice(client=client)
    client.name, client.billing_street = "Alice Renamed", "99 Elsewhere"
    client.save()
    company.name, company.tax_id = "Other Name", "XX"
    company.save()
    invoice.refresh_from_db()
    assert invoice.client_name == "Alice Martin"
    assert invoice.billing_address == "12 Oak Street\nSpringfield 62704"
    assert invoice.company_name == "Data Plus Fiber LLC"
    assert invoice.company_tax_id == "US-12-3456789"
    assert invoice.payment_instructions == "Bank transfer to ACME Bank 123-456"
    assert invoice.currency == "USD"


def test_issued_figures_use_per_line_rounding_and_tax_per_rate_on_the_summed_net():
    # Three lines of 0.335 at 10 %: each rounds half-up to 0.34 (net 1.02);
    # tax on the summed net is 0.102 -> 0.10 (the sum of per-line taxes would be 0.12).
    lines = [line("Part", "1", "0.335", "10") for _ in range(3)]
    # plus 8.25 % on 19.99 x 3 = 59.97 -> tax 4.947525 -> 4.95
    lines.append(line("Router", "3", "19.99", "8.25"))
    invoice = issued_invoice(lines=lines)
    assert invoice.net == Decimal("60.99")
    assert invoice.tax == Decimal("0.10") + Decimal("4.95")
    assert invoice.total == invoice.net + invoice.tax == Decimal("66.04")
    assert invoice.tax_breakdown == [
        {"rate": "8.250", "net": "59.97", "tax": "4.95"},
        {"rate": "10.000", "net": "1.02", "tax": "0.10"},
    ]
    assert invoice.balance == invoice.total


def test_an_invoice_without_lines_cannot_be_issued():
    invoice = Invoice.objects.create(client=SubscriberFactory())
    with pytest.raises(InvoiceError, match="at least one line"):
        issue_invoice(invoice=invoice)


def test_an_invoice_is_issued_once():
    invoice = issued_invoice()
    with pytest.raises(InvoiceError, match="already issued"):
        issue_invoice(invoice=invoice)


def test_issuing_chooses_an_unguessable_pdf_name_and_renders_it_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice = issued_invoice()
    assert len(callbacks) == 1
    invoice.refresh_from_db()
    assert invoice.pdf_path.startswith("invoices/") and len(invoice.pdf_path) == 45
    assert invoice.number not in invoice.pdf_path
    assert invoice.pdf_rendered_at is not None


def test_the_model_refuses_to_change_an_issued_invoice():
    invoice = issued_invoice()
    invoice.client_name = "Someone else"
    with pytest.raises(ImmutableInvoiceError):
        invoice.save()
    fresh = Invoice.objects.get(pk=invoice.pk)
    fresh.total = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        fresh.save(update_fields=["total"])
    fresh.status = Invoice.Status.DRAFT
    with pytest.raises(ImmutableInvoiceError):
        fresh.save(update_fields=["status"])


def test_payment_fields_of_an_issued_invoice_may_change():
    invoice = Invoice.objects.get(pk=issued_invoice().pk)
    invoice.amount_paid = Decimal("10.00")
    invoice.status = Invoice.Status.PARTIALLY_PAID
    invoice.save(update_fields=["amount_paid", "status"])
    invoice.refresh_from_db()
    assert invoice.balance == invoice.total - Decimal("10.00")


def test_the_model_refuses_to_delete_an_issued_invoice_or_its_lines():
    invoice = issued_invoice()
    with pytest.raises(ImmutableInvoiceError):
        invoice.delete()
    with pytest.raises(ImmutableInvoiceError):
        Invoice.objects.filter(pk=invoice.pk).delete()
    a_line = invoice.lines.get()
    with pytest.raises(ImmutableInvoiceError):
        a_line.delete()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceLine.objects.filter(pk=a_line.pk).delete()
    a_line.description = "Changed"
    with pytest.raises(ImmutableInvoiceError):
        a_line.save()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceLine.objects.create(
            invoice=invoice, description="Extra", unit_price=Decimal("1"), net=Decimal("1")
        )
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_a_draft_can_be_deleted():
    invoice = draft_invoice()
    invoice.delete()
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


def test_a_draft_is_not_overdue_and_an_issued_one_is_after_its_due_date():
    invoice = issued_invoice(issue_date=date(2026, 1, 1))
    assert invoice.is_overdue_on(date(2026, 1, 17))
    assert not invoice.is_overdue_on(date(2026, 1, 16))  # due on the 16th: not yet overdue
    assert Invoice.objects.overdue(date(2026, 1, 17)).filter(pk=invoice.pk).exists()
    assert not draft_invoice().is_overdue_on(date(2030, 1, 1))
