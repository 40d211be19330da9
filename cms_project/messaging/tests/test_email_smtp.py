"""Email through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from cms_project.messaging.models import Delivery
from cms_project.messaging.sending import queue_email
from cms_project.messaging.tasks import deliver, requeue_stale_deliveries
from cms_project.messaging.testing import smtp_server

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def stored_pdf(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return default_storage.save("invoices/INV-2026-000001.pdf", ContentFile(PDF))


def _queue_invoice_email(django_capture_on_commit_callbacks, pdf_path) -> Delivery:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queue_email(
            to=["alice@test.example"],
            cc=["office@test.example"],
            bcc=["archive@test.example"],
            subject="Invoice INV-2026-000001",
            body="Please find your invoice attached.",
            attachments=[("INV-2026-000001.pdf", pdf_path, "application/pdf")],
            purpose="invoice",
        )
    delivery.refresh_from_db()
    return delivery


def test_the_invoice_email_arrives_with_its_pdf_and_bcc_only_in_the_envelope(
    django_capture_on_commit_callbacks, stored_pdf
):
    with smtp_server() as smtp:
        delivery = _queue_invoice_email(django_capture_on_commit_callbacks, stored_pdf)
    assert delivery.status == Delivery.Status.SENT
    [received] = smtp.messages
    message = received.message
    assert message["To"] == "alice@test.example"
    assert message["Cc"] == "office@test.example"
    assert message["Bcc"] is None
    assert "archive@test.example" not in message.as_string()
    assert sorted(received.envelope_rcpt_tos) == [
        "alice@test.example",
        "archive@test.example",
        "office@test.example",
    ]
    assert message["Subject"] == "Invoice INV-2026-000001"
    assert message["Message-ID"] == delivery.provider_id
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "INV-2026-000001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == (
        "Please find your invoice attached."
    )


def test_html_and_text_bodies_both_arrive(django_capture_on_commit_callbacks):
    with smtp_server() as smtp, django_capture_on_commit_callbacks(execute=True):
        queue_email(to=["a@test.example"], subject="s", body="plain text", html_body="<p>rich</p>")
    message = smtp.messages[0].message
    assert "plain text" in message.get_body(preferencelist=("plain",)).get_content()
    assert "<p>rich</p>" in message.get_body(preferencelist=("html",)).get_content()


def test_with_the_smtp_server_down_the_delivery_retries_then_sends_once_it_is_back(
    django_capture_on_commit_callbacks, stored_pdf
):
    with smtp_server(running=False) as smtp:
        delivery = _queue_invoice_email(django_capture_on_commit_callbacks, stored_pdf)
        assert delivery.status == Delivery.Status.RETRYING
        assert delivery.attempts == 1
        assert "SMTP server unavailable" in delivery.last_error
        assert "ConnectionRefusedError" in delivery.last_error

        # Still down at the next attempt: the backoff doubles.
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        deliver(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.RETRYING, 2)
        wait = delivery.next_attempt_at - delivery.last_attempt_at
        assert timedelta(seconds=119) < wait < timedelta(seconds=121)

        smtp.start()
        # The retry's countdown message was lost too; the beat sweep finds the overdue row.
        overdue = timezone.now() - timedelta(minutes=10)
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=overdue)
        assert requeue_stale_deliveries() == 1
        assert requeue_stale_deliveries() == 0
        deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 3
    assert len(smtp.messages) == 1
    assert smtp.messages[0].message["To"] == "alice@test.example"


def test_a_recipient_the_server_refuses_for_good_fails_without_retry(
    django_capture_on_commit_callbacks,
):
    with smtp_server() as smtp:

        async def refuse(server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such user"

        smtp.handler.handle_RCPT = refuse
        with django_capture_on_commit_callbacks(execute=True):
            delivery = queue_email(to=["nobody@test.example"], subject="s", body="b")
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "550" in delivery.last_error
    assert "No such user" in delivery.last_error


def test_a_missing_attachment_is_retried_not_sent_without_it(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with smtp_server() as smtp:
        delivery = _queue_invoice_email(django_capture_on_commit_callbacks, "invoices/not-yet.pdf")
    assert delivery.status == Delivery.Status.RETRYING
    assert "not in storage yet" in delivery.last_error
    assert smtp.messages == []


def test_after_the_last_attempt_the_delivery_is_marked_failed(
    django_capture_on_commit_callbacks, settings
):
    settings.MESSAGING_MAX_ATTEMPTS = 2
    with smtp_server(running=False):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = queue_email(to=["a@test.example"], subject="s", body="b")
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith("Gave up after 2 attempts")
