"""Staff pages: the list, the invoice page, manual drafts, sending, credit notes, billing."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cms_project.messaging.models import Delivery, OutboxMessage
from staff.models import Role
from staff.tests.factories import UserFactory

from ..models import BillingRun, CreditNote, Invoice
from .factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
    draft_invoice,
    issued_invoice,
    line,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def staff(login, staff_user):
    return login(staff_user)


def lines_post(*rows, total_forms=None):
    data = {
        "lines-TOTAL_FORMS": str(total_forms or len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{index}-{key}"] = value
    return data


REPAIR = {
    "description": "Repair visit",
    "quantity": "1.5",
    "unit_price": "80.00",
    "tax_rate": "8.25",
}


# --- List ----------------------------------------------------------------------------------
def test_the_list_filters_by_status_client_period_amount_and_overdue(staff):
    alice = SubscriberFactory(name="Alice Martin")
    old = issued_invoice(
        client=alice, lines=[line(unit_price="100.00")], issue_date=date(2026, 1, 5)
    )
    new = issued_invoice(lines=[line(unit_price="20.00")])
    draft = draft_invoice(client=alice)
    run_invoice = Invoice.objects.create(
        client=SubscriberFactory(), source="billing_run", period_year=2026, period_month=11
    )

    def numbers(**params):
        response = staff.get(reverse("invoices:list"), params)
        assert response.status_code == 200
        return {invoice.pk for invoice in response.context["page"]}

    assert numbers() == {old.pk, new.pk, draft.pk, run_invoice.pk}
    assert numbers(status="draft") == {draft.pk, run_invoice.pk}
    assert numbers(client="alice") == {old.pk, draft.pk}
    assert numbers(client=old.number) == {old.pk}
    assert numbers(period="2026-11") == {run_invoice.pk}
    assert numbers(min_total="50") == {old.pk, draft.pk}
    assert numbers(min_total="10", max_total="50") == {new.pk}
    assert numbers(overdue="on") == {old.pk}


def test_bad_filters_are_explained_next_to_the_field_not_a_500(staff):
    response = staff.get(reverse("invoices:list"), {"period": "2026-13", "min_total": "abc"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "period" in form.errors and "min_total" in form.errors
    assert "use YYYY-MM" in response.content.decode()
    response = staff.get(reverse("invoices:list"), {"min_total": "50", "max_total": "10"})
    assert "must not be below" in response.content.decode()


def test_the_list_sorts_by_the_chosen_column(staff):
    small = issued_invoice(lines=[line(unit_price="5.00")])
    big = issued_invoice(lines=[line(unit_price="500.00")])
    response = staff.get(reverse("invoices:list"), {"sort": "-total"})
    assert [i.pk for i in response.context["page"]] == [big.pk, small.pk]
    response = staff.get(reverse("invoices:list"), {"sort": "total"})
    assert [i.pk for i in response.context["page"]] == [small.pk, big.pk]


def test_the_list_uses_the_same_number_of_queries_for_5_or_50_rows(staff):
    staff.get(reverse("invoices:list"))  # first use creates the company settings row

    def count(rows):
        Invoice.objects.filter(status="draft").delete()
        for _ in range(rows):
            Invoice.objects.create(client=SubscriberFactory(), currency="USD")
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(reverse("invoices:list")).status_code == 200
        return len(ctx.captured_queries)

    assert count(5) == count(50)


def test_the_csv_export_has_every_filtered_invoice_with_its_figures(staff):
    invoice = issued_invoice(lines=[line(unit_price="19.99", tax_rate="8.25")])
    draft_invoice()
    response = staff.get(reverse("invoices:export"), {"status": "issued"})
    assert response["Content-Disposition"].startswith('attachment; filename="invoices-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "number"
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["number"] == invoice.number
    assert (row["net"], row["tax"], row["total"], row["balance"]) == (
        "19.99", "1.65", "21.64", "21.64",
    )  # fmt: skip


# --- Invoice page and PDF ------------------------------------------------------------------
def test_the_invoice_page_shows_lines_totals_status_and_deliveries(staff):
    invoice = issued_invoice(lines=[line("Repair visit", "2", "45.00", "8.25")])
    from ..sending import email_invoice

    email_invoice(invoice=invoice, to=["a@test.example"], subject="s", body="b")
    response = staff.get(reverse("invoices:detail", args=[invoice.pk]))
    html = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    for text in [invoice.number, "Repair visit", "$90.00", "$7.43", "$97.43", "Issued",
                 "Messages sent", "a@test.example", "Send by email", "Credit note"]:  # fmt: skip
        assert text in html, text
    assert "Edit draft" not in html


def test_staff_download_the_pdf_as_an_attachment_with_a_server_made_name(staff):
    invoice = issued_invoice()
    response = staff.get(reverse("invoices:pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_draft_has_no_pdf(staff):
    assert staff.get(reverse("invoices:pdf", args=[draft_invoice().pk])).status_code == 404


def test_pdfs_are_not_reachable_from_a_media_url(client, settings):
    invoice = issued_invoice()
    from ..pdf import render_invoice_pdf

    render_invoice_pdf(invoice_id=invoice.pk)
    assert client.get("/media/" + invoice.pdf_path).status_code == 404
    assert client.get(f"/{invoice.pdf_path}").status_code == 404


# --- Manual invoices -----------------------------------------------------------------------
def test_staff_create_a_draft_with_free_lines(staff, staff_user):
    client = SubscriberFactory(account_number="C-000042")
    data = {"client": "c-000042", "notes": "Thanks!"}
    data.update(lines_post(REPAIR, {"description": "Patch cable", "quantity": "2",
                                    "unit_price": "4.99", "tax_rate": "8.25"},
                           {"description": "", "quantity": "", "unit_price": "", "tax_rate": ""}))  # fmt: skip
    response = staff.post(reverse("invoices:create"), data)
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response["Location"] == invoice.get_absolute_url()
    assert invoice.client == client and invoice.is_draft and invoice.number == ""
    assert [(ln.description, ln.net) for ln in invoice.lines.all()] == [
        ("Repair visit", D("120.00")),
        ("Patch cable", D("9.98")),
    ]
    assert (invoice.net, invoice.tax, invoice.total) == (D("129.98"), D("10.72"), D("140.70"))
    assert invoice.created_by == staff_user


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"client": "C-999999"}, "client", "No client has the account number"),
        ({"lines-0-unit_price": "-5"}, "unit_price", "cannot be negative"),
        ({"lines-0-quantity": "0"}, "quantity", "greater than or equal to 0.01"),
        ({"lines-0-tax_rate": "101"}, "tax_rate", "less than or equal to 100"),
        ({"lines-0-quantity": "abc"}, "quantity", "Enter a number"),
    ],
)
def test_bad_draft_input_is_explained_and_nothing_is_saved(staff, change, field, message):
    SubscriberFactory(account_number="C-000042")
    data = {"client": "C-000042", **lines_post(REPAIR), **change}
    response = staff.post(reverse("invoices:create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Invoice.objects.exists()


def test_a_draft_needs_at_least_one_line(staff):
    SubscriberFactory(account_number="C-000042")
    empty = {"description": "", "quantity": "", "unit_price": "", "tax_rate": ""}
    response = staff.post(reverse("invoices:create"), {"client": "C-000042", **lines_post(empty)})
    assert "Add at least one line." in response.content.decode()
    assert not Invoice.objects.exists()


def test_staff_edit_a_draft_then_issue_it(staff, mailoutbox, django_capture_on_commit_callbacks):
    client = SubscriberFactory(email="carol@test.example")
    invoice = draft_invoice(client=client)
    data = {"notes": "", **lines_post({**REPAIR, "quantity": "3"})}
    assert staff.post(reverse("invoices:edit", args=[invoice.pk]), data).status_code == 302
    invoice.refresh_from_db()
    assert invoice.lines.get().net == D("240.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("invoices:issue", args=[invoice.pk]), {"notify": "on"})
    invoice.refresh_from_db()
    assert response.status_code == 302
    assert invoice.status == Invoice.Status.ISSUED and invoice.number.startswith("INV-")
    assert invoice.pdf_ready
    assert mailoutbox[0].to == ["carol@test.example"]


def test_views_refuse_to_edit_or_delete_an_issued_invoice(staff):
    invoice = issued_invoice()
    before = (invoice.net, list(invoice.lines.values_list("description", flat=True)))
    data = {"notes": "x", **lines_post({**REPAIR, "description": "Changed"})}
    response = staff.post(reverse("invoices:edit", args=[invoice.pk]), data, follow=True)
    assert "can no longer be edited" in response.content.decode()
    response = staff.post(reverse("invoices:delete", args=[invoice.pk]), follow=True)
    assert "can never be deleted" in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.net, list(invoice.lines.values_list("description", flat=True))) == before


def test_a_draft_can_be_deleted_by_staff(staff):
    invoice = draft_invoice()
    assert staff.post(reverse("invoices:delete", args=[invoice.pk])).status_code == 302
    assert not Invoice.objects.exists()


def test_state_changes_need_post(staff):
    invoice = draft_invoice()
    assert staff.get(reverse("invoices:issue", args=[invoice.pk])).status_code == 405
    assert staff.get(reverse("invoices:delete", args=[invoice.pk])).status_code == 405


# --- Sending -------------------------------------------------------------------------------
def test_the_email_form_starts_from_the_client_address_and_a_default_message(staff):
    invoice = issued_invoice(client=SubscriberFactory(email="carol@test.example"))
    form = staff.get(reverse("invoices:send_email", args=[invoice.pk])).context["form"]
    assert form.initial["to"] == ["carol@test.example"]
    assert invoice.number in form.initial["subject"]
    assert "/portal/invoices/" in form.initial["message"]


def test_staff_email_an_invoice_with_cc_and_bcc_and_the_pdf_attached(
    staff, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = issued_invoice()
    data = {
        "to": "carol@test.example",
        "cc": "accounts@test.example, boss@test.example",
        "bcc": "archive@test.example",
        "subject": f"Your invoice {invoice.number}",
        "message": "Here it is.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("invoices:send_email", args=[invoice.pk]), data)
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert delivery.related == invoice and delivery.requested_by == staff_user
    assert delivery.status == Delivery.Status.SENT
    message = mailoutbox[0]
    assert message.to == ["carol@test.example"]
    assert message.cc == ["accounts@test.example", "boss@test.example"]
    assert message.bcc == ["archive@test.example"]
    assert "Bcc" not in message.message()
    assert message.subject == f"Your invoice {invoice.number}"
    filename, content, mimetype = message.attachments[0]
    assert (filename, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


def test_a_bad_address_is_explained_next_to_the_field_and_nothing_is_sent(staff):
    invoice = issued_invoice()
    data = {"to": "carol@test.example", "cc": "not-an-address", "subject": "s", "message": "m"}
    response = staff.post(reverse("invoices:send_email", args=[invoice.pk]), data)
    assert response.status_code == 200
    assert "Not a valid email address: not-an-address" in response.content.decode()
    assert not Delivery.objects.exists()


def test_staff_sms_an_invoice_to_a_client_who_agreed(staff, django_capture_on_commit_callbacks):
    client = SubscriberFactory(consent_sms=True, phone="+12175550123")
    invoice = issued_invoice(client=client)
    form = staff.get(reverse("invoices:send_sms", args=[invoice.pk])).context["form"]
    body = form.initial["message"]
    assert invoice.number in body and "$80.00" in body and "/portal/invoices/" in body
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("invoices:send_sms", args=[invoice.pk]), {"message": body})
    sms = OutboxMessage.objects.get()
    assert sms.to == "+12175550123" and sms.body == body
    assert Delivery.objects.get().related == invoice


def test_no_sms_to_a_client_who_did_not_agree(staff):
    invoice = issued_invoice(client=SubscriberFactory(consent_sms=False, phone="+12175550123"))
    response = staff.post(
        reverse("invoices:send_sms", args=[invoice.pk]), {"message": "hi"}, follow=True
    )
    assert "has not agreed to SMS" in response.content.decode()
    assert not Delivery.objects.exists()


# --- Credit notes --------------------------------------------------------------------------
def test_staff_credit_chosen_lines(staff):
    invoice = issued_invoice(lines=[line("A", unit_price="10.00"), line("B", unit_price="5.00")])
    a = invoice.lines.get(description="A")
    response = staff.post(
        reverse("invoices:credit_note_create", args=[invoice.pk]),
        {"reason": "Outage", "lines": [str(a.pk)]},
    )
    assert response.status_code == 302
    note = CreditNote.objects.get()
    assert note.total == D("10.00")
    page = staff.get(reverse("invoices:credit_note_detail", args=[note.pk])).content.decode()
    assert note.number in page and "Outage" in page
    pdf = staff.get(reverse("invoices:credit_note_pdf", args=[note.pk]))
    assert pdf["Content-Disposition"] == f'attachment; filename="{note.number}.pdf"'


def test_a_credit_note_without_lines_is_refused_with_a_message(staff):
    invoice = issued_invoice()
    response = staff.post(
        reverse("invoices:credit_note_create", args=[invoice.pk]), {"reason": "x"}
    )
    assert "Choose at least one line to credit." in response.content.decode()
    assert not CreditNote.objects.exists()


def test_staff_void_an_invoice(staff):
    invoice = issued_invoice()
    staff.post(reverse("invoices:void", args=[invoice.pk]), {"reason": "Cancelled"})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert CreditNote.objects.get().reason == "Cancelled"


# --- Billing pages -------------------------------------------------------------------------
def test_staff_start_a_billing_run_and_watch_its_counts(
    staff, staff_user, django_capture_on_commit_callbacks
):
    service = ServiceFactory(name="Fiber 1 Gig", price=D("60.00"))
    for _ in range(3):
        SubscriptionFactory(
            service=service, location=SubscriberLocationFactory(), start_date=date(2024, 1, 1)
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("invoices:billing"), {"period": "2026-11"})
    run = BillingRun.objects.get()
    assert response["Location"] == run.get_absolute_url()
    assert run.started_by == staff_user
    status = staff.get(reverse("invoices:billing_run_status", args=[run.pk])).json()
    assert status["done"] and status["created"] == 3 and status["percent"] == 100
    assert status["total_billed"] == "180.00"
    page = staff.get(run.get_absolute_url()).content.decode()
    assert "js/billing-run.js" in page and "<script>" not in page


def test_the_billing_form_refuses_a_bad_period(staff):
    response = staff.post(reverse("invoices:billing"), {"period": "November"})
    assert response.status_code == 200
    assert "use YYYY-MM" in response.content.decode()
    assert not BillingRun.objects.exists()


# --- Django admin --------------------------------------------------------------------------
def test_the_django_admin_shows_issued_invoices_read_only(client):
    superuser = UserFactory(
        email="root@test.example", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    client.force_login(superuser)
    invoice = issued_invoice()
    url = reverse("admin:invoices_invoice_change", args=[invoice.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="notes"' not in page.content.decode()  # no editable fields
    response = client.post(url, {"notes": "changed", "client": invoice.client_id})
    assert response.status_code == 403
    delete = client.post(
        reverse("admin:invoices_invoice_delete", args=[invoice.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    invoice.refresh_from_db()
    assert invoice.notes == "" and Invoice.objects.filter(pk=invoice.pk).exists()
    draft = draft_invoice()
    page = client.get(reverse("admin:invoices_invoice_change", args=[draft.pk]))
    assert 'name="notes"' in page.content.decode()
