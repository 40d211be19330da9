"""An invoice by email through a real SMTP server (aiosmtpd on 127.0.0.1): the PDF attached,
To and Cc headers, the Bcc address only in the envelope; an SMTP outage leaves the delivery
retrying, and it is sent once the server is back."""

import email
import email.policy
import socket
import threading
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from cms_project.messaging.models import Delivery
from cms_project.messaging.tasks import deliver

from ..sending import email_invoice
from .factories import issued_invoice, line
from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_mailer(port: int):
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    with override_settings(MAILERS=mailers):
        yield


@pytest.fixture
def smtp():
    recorder, port = Recorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtp_mailer(port):
            yield recorder
    finally:
        controller.stop()


def test_the_invoice_arrives_with_its_pdf_and_bcc_only_in_the_envelope(
    smtp, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(lines=[line("Fiber 1 Gig", "1", "79.99", "8.25")])
    with django_capture_on_commit_callbacks(execute=True):
        email_invoice(
            invoice=invoice,
            to=["alice@test.example"],
            cc=["accountant@test.example"],
            bcc=["archive@test.example"],
            subject=f"Invoice {invoice.number}",
            body="Attached.",
        )
    assert Delivery.objects.get().status == Delivery.Status.SENT
    [(recipients, message)] = smtp.received
    assert sorted(recipients) == [
        "accountant@test.example",
        "alice@test.example",
        "archive@test.example",
    ]
    assert message["To"] == "alice@test.example"
    assert message["Cc"] == "accountant@test.example"
    assert message["Bcc"] is None and "archive@test.example" not in message.as_string()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_payload(decode=True))
    assert invoice.number in text and "$86.59" in text


@override_settings(MESSAGING_RETRY_BASE_SECONDS=0)
def test_an_smtp_outage_leaves_the_delivery_retrying_until_the_server_is_back(
    django_capture_on_commit_callbacks,
):
    invoice = issued_invoice()
    port = free_port()  # nothing listens here yet: the SMTP server is down
    with smtp_mailer(port):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = email_invoice(
                invoice=invoice, to=["alice@test.example"], subject="Invoice", body="Hi"
            )
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.RETRYING
        assert "SMTP server unavailable" in delivery.last_error
        assert delivery.attempts == 1

        recorder = Recorder()
        controller = Controller(recorder, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            deliver(delivery.pk)  # the retry (the countdown message, or the stale sweep)
        finally:
            controller.stop()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    [(recipients, message)] = recorder.received
    assert recipients == ["alice@test.example"]
    assert next(message.iter_attachments()).get_filename() == f"{invoice.number}.pdf"
