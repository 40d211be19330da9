"""Receipts: the PDF read back as text, rendered after commit and stored under an unguessable
name; sent by email (a real SMTP server, PDF attached) and by SMS (outbox backend) by the
client's preferences; served only to staff and to the client who paid."""

import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from cms_project.messaging.models import Delivery, OutboxMessage
from cms_project.messaging.testing import smtp_server

from ..allocation import record_payment, reverse_payment
from ..models import Invoice, Payment
from ..receipts import receipt_pdf_bytes, receipts_muted
from .factories import SubscriberFactory, issued_invoice, line
from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture(autouse=True)
def no_invoice_pdfs(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def invoice_for(client, amount: str, *, due_in_days: int = 0) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(due_date=TODAY + timedelta(days=due_in_days))
    return Invoice.objects.get(pk=invoice.pk)


def pay(client, amount, capture, **kwargs) -> Payment:
    kwargs.setdefault("method", "cash")
    kwargs.setdefault("received_on", TODAY)
    with capture(execute=True):
        payment = record_payment(client=client, amount=amount, **kwargs)
    return Payment.objects.get(pk=payment.pk)


def test_the_receipt_pdf_shows_number_amount_card_invoices_credit_and_balance(
    django_capture_on_commit_callbacks,
):
    client = SubscriberFactory(name="Alice Martin", email="")
    older = invoice_for(client, "40.00", due_in_days=-20)
    newer = invoice_for(client, "80.00", due_in_days=-2)
    invoice_for(client, "30.00", due_in_days=10)
    payment = pay(
        client,
        "100.00",
        django_capture_on_commit_callbacks,
        method="card_online",
        card_brand="Visa",
        card_last4="4242",
    )
    # Rendered after commit, under a random name that says nothing about the client.
    assert payment.receipt_rendered_at is not None
    assert re.fullmatch(r"receipts/[0-9a-f]{32}\.pdf", payment.receipt_path)
    with default_storage.open(payment.receipt_path, "rb") as f:
        text = pdf_text(f.read())
    assert "RECEIPT" in text and payment.number in text
    assert "Alice Martin" in text and client.account_number in text
    assert "$100.00" in text
    assert "Visa ending 4242" in text
    assert f"Invoice {older.number} $40.00" in text
    assert f"Invoice {newer.number} $60.00" in text
    # 150 invoiced, 100 paid: 50 still due (20 of the 80 and the 30 not due yet).
    assert re.search(r"Balance still due after this payment \$50\.00", text)


def test_the_receipt_shows_credit_and_does_not_change_when_the_payment_is_reversed(
    django_capture_on_commit_callbacks,
):
    client = SubscriberFactory(email="")
    invoice = invoice_for(client, "40.00")
    payment = pay(client, "55.00", django_capture_on_commit_callbacks)
    before = pdf_text(receipt_pdf_bytes(payment))
    assert "Credit on your account $15.00" in before
    assert f"Invoice {invoice.number} $40.00" in before
    assert re.search(r"in credit\)\s*-\$15\.00", before)
    reverse_payment(payment=payment, reason="Bounced")
    payment.refresh_from_db()
    assert pdf_text(receipt_pdf_bytes(payment)) == before


def test_the_receipt_email_arrives_at_the_smtp_server_with_the_pdf(
    django_capture_on_commit_callbacks,
):
    client = SubscriberFactory(name="Bob Nguyen", email="bob@test.example")
    invoice = invoice_for(client, "40.00")
    with smtp_server() as smtp:
        payment = pay(client, "25.00", django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(channel=Delivery.Channel.EMAIL)
    assert delivery.status == Delivery.Status.SENT
    assert delivery.related == payment if hasattr(delivery, "related") else True
    [received] = smtp.messages
    assert received.envelope_rcpt_tos == ["bob@test.example"]
    message = received.message
    assert payment.number in message["Subject"] and "$25.00" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"invoice {invoice.number}: $25.00" in body
    assert "Balance after this payment: $15.00." in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{payment.number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    assert payment.number in text and invoice.number in text and "$25.00" in text


def test_the_receipt_goes_by_sms_only_to_clients_who_agreed(
    django_capture_on_commit_callbacks,
):
    agreed = SubscriberFactory(email="", phone="+12175550142", consent_sms=True)
    refused = SubscriberFactory(email="", phone="+12175550143", consent_sms=False)
    invoice_for(agreed, "40.00")
    payment = pay(agreed, "40.00", django_capture_on_commit_callbacks)
    pay(refused, "10.00", django_capture_on_commit_callbacks)
    [sms] = OutboxMessage.objects.all()
    assert sms.to == "+12175550142"
    assert payment.number in sms.body and "$40.00" in sms.body
    assert reverse("invoices:portal_payments") in sms.body


def test_a_retried_signal_sends_nothing_twice_and_muted_payments_send_nothing(
    django_capture_on_commit_callbacks,
):
    from ..receipts import send_receipt

    client = SubscriberFactory(email="carol@test.example")
    payment = pay(client, "10.00", django_capture_on_commit_callbacks)
    assert send_receipt(payment=payment) == []  # the dedupe key was used
    with receipts_muted():
        quiet = pay(client, "5.00", django_capture_on_commit_callbacks)
    assert Delivery.objects.count() == 1
    assert quiet.receipt_rendered_at is None and quiet.receipt_snapshot["client_name"]


def test_staff_send_the_receipt_again_and_download_it(
    login, staff_user, django_capture_on_commit_callbacks
):
    client = SubscriberFactory(email="dave@test.example")
    payment = pay(client, "10.00", django_capture_on_commit_callbacks)
    browser = login(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            reverse("invoices:payment_send_receipt", args=[payment.pk]), follow=True
        )
    assert f"Receipt {payment.number} was queued to dave@test.example." in response.content.decode()
    assert Delivery.objects.filter(purpose="receipt-send", status="sent").count() == 1
    download = browser.get(reverse("invoices:payment_receipt", args=[payment.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert payment.number in pdf_text(b"".join(download.streaming_content))


def test_a_receipt_not_rendered_yet_is_rendered_on_first_download(login, staff_user):
    client = SubscriberFactory(email="")
    with receipts_muted():
        payment = record_payment(client=client, amount="12.34", method="cash", received_on=TODAY)
    download = login(staff_user).get(reverse("invoices:payment_receipt", args=[payment.pk]))
    assert "$12.34" in pdf_text(b"".join(download.streaming_content))
    assert Payment.objects.get(pk=payment.pk).receipt_rendered_at is not None


def test_alice_sees_her_payments_and_receipts_but_never_bobs(
    login, alice_user, bob_user, django_capture_on_commit_callbacks
):
    alice = SubscriberFactory(user=alice_user, email="")
    bob = SubscriberFactory(user=bob_user, email="")
    invoice = invoice_for(alice, "30.00")
    mine = pay(alice, "30.00", django_capture_on_commit_callbacks)
    bobs = pay(bob, "99.00", django_capture_on_commit_callbacks)
    browser = login(alice_user)
    listing = browser.get(reverse("invoices:portal_payments"))
    html = listing.content.decode()
    assert mine.number in html and invoice.number in html
    assert bobs.number not in html
    own = browser.get(reverse("invoices:portal_payment_receipt", args=[mine.pk]))
    assert own.status_code == 200 and mine.number in pdf_text(b"".join(own.streaming_content))
    assert (
        browser.get(reverse("invoices:portal_payment_receipt", args=[bobs.pk])).status_code == 404
    )
    assert browser.get(reverse("invoices:payment_receipt", args=[mine.pk])).status_code == 403
    assert D(mine.receipt_snapshot["allocated"]) == D("30.00")
