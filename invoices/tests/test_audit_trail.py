"""The audit trail of the invoices app: issuing, voiding and crediting an invoice are recorded
on the invoice (so its history shows them); a billing run is recorded once, not per invoice."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from staff.audit import action_labels
from staff.models import AuditEntry

from ..billing import run_billing
from ..models import BillingRun, CreditNote, Invoice
from .factories import (
    ServiceFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
    draft_invoice,
    issued_invoice,
    line,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _only(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


@pytest.fixture
def staff(login, staff_user):
    return login(staff_user)


def test_issuing_records_the_number_dates_and_figures(staff, staff_user, december_2026):
    invoice = draft_invoice(lines=[line("Repair visit", "2", "40.00", "8.25")])
    staff.post(reverse("invoices:issue", args=[invoice.pk]), REMOTE_ADDR="203.0.113.9")
    invoice.refresh_from_db()
    entry = _only("invoice.issue")
    assert (entry.actor, entry.object_type, entry.object_id, entry.ip_address) == (
        staff_user,
        "invoices.invoice",
        str(invoice.pk),
        "203.0.113.9",
    )
    assert entry.changes == {
        "status": ["draft", "issued"],
        "number": ["", invoice.number],
        "issue_date": [None, "2026-12-01"],
        "due_date": [None, invoice.due_date.isoformat()],
    }
    assert entry.note == "total 86.60 USD"
    assert entry.object_repr == invoice.number


def test_a_refused_issue_records_nothing(staff):
    invoice = issued_invoice()
    staff.post(reverse("invoices:issue", args=[invoice.pk]))
    assert AuditEntry.objects.filter(action="invoice.issue").count() == 1  # the factory's


def test_voiding_is_one_entry_on_the_invoice_naming_the_credit_note(staff, staff_user):
    invoice = issued_invoice(lines=[line("Fiber 1 Gig", "1", "79.99", "8.25")])
    staff.post(reverse("invoices:void", args=[invoice.pk]), {"reason": "Signed up by mistake"})
    note = CreditNote.objects.get()
    entry = _only("invoice.void")
    assert (entry.actor, entry.object_id) == (staff_user, str(invoice.pk))
    assert entry.changes == {
        "credit_note": [None, note.number],
        "credit_note_total": [None, "86.59"],
        "status": ["issued", "void"],
        "amount_credited": ["0.00", "86.59"],
        "credited_total": ["0.00", "86.59"],
    }
    assert entry.note == "Signed up by mistake"
    assert not AuditEntry.objects.filter(action="invoice.credit_note").exists()


def test_a_partial_credit_note_is_recorded_on_the_invoice(staff, staff_user):
    invoice = issued_invoice(lines=[line("A", "1", "10.00"), line("B", "1", "30.00")])
    a = invoice.lines.get(description="A")
    staff.post(
        reverse("invoices:credit_note_create", args=[invoice.pk]),
        {"reason": "Outage", "lines": [str(a.pk)]},
    )
    note = CreditNote.objects.get()
    entry = _only("invoice.credit_note")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        staff_user,
        "invoices.invoice",
        str(invoice.pk),
    )
    assert entry.changes == {
        "credit_note": [None, note.number],
        "credit_note_total": [None, "10.00"],
        "amount_credited": ["0.00", "10.00"],
        "credited_total": ["0.00", "10.00"],
    }


def test_a_billing_run_is_one_entry_however_many_invoices_it_makes(
    staff, staff_user, django_capture_on_commit_callbacks
):
    service = ServiceFactory(name="Fiber 1 Gig", price=D("60.00"))
    for _ in range(3):
        SubscriptionFactory(
            service=service, location=SubscriberLocationFactory(), start_date=date(2024, 1, 1)
        )
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("invoices:billing"), {"period": "2026-11"})
    run = BillingRun.objects.get()
    assert Invoice.objects.filter(billing_run=run).count() == 3
    # The only entry of the whole run (the log-in of the test's user aside).
    entry = AuditEntry.objects.exclude(action="auth.login").get()
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == (
        "billing_run.start",
        staff_user,
        "invoices.billingrun",
        str(run.pk),
    )
    assert entry.note.startswith("period 2026-11; ")


def test_a_scheduled_billing_run_is_recorded_without_an_actor():
    run = run_billing(year=2026, month=11, render_pdfs=False)
    entry = _only("billing_run.start")
    assert (entry.actor, entry.object_id) == (None, str(run.pk))


def test_every_action_of_the_invoices_app_has_a_label():
    labels = action_labels()
    for action in ["invoice.issue", "invoice.void", "invoice.credit_note", "billing_run.start"]:
        assert labels[action]
