"""A real Celery worker on Redis (db 5) does the invoice's background work end to end: the
billing run task, the PDF render after commit, and the email with the PDF through real SMTP."""

import time

import pytest
import redis
from aiosmtpd.controller import Controller
from django.db import close_old_connections
from kombu import pools

from cms_project.celery import app as celery_app
from cms_project.messaging.models import Delivery

from ..billing import start_run
from ..models import BillingRun, Invoice
from ..tasks import run_billing_task
from .factories import SubscriberFactory, SubscriberLocationFactory, SubscriptionFactory
from .test_email_smtp import Recorder, free_port, smtp_mailer
from .test_pdf import pdf_text

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKER = "redis://127.0.0.1:6379/5"


def _forget_broker_connections():
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def real_worker():
    redis.Redis.from_url(BROKER).flushdb()
    overrides = {
        "task_always_eager": False,
        "broker_url": BROKER,
        "worker_hijack_root_logger": False,
    }
    saved = {key: celery_app.conf[key] for key in overrides}
    celery_app.conf.update(overrides)
    _forget_broker_connections()
    from celery.contrib.testing.worker import start_worker

    try:
        with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        celery_app.conf.update(saved)
        _forget_broker_connections()
        close_old_connections()


def wait_until(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def test_a_worker_bills_renders_the_pdf_and_emails_the_invoice(real_worker):
    client = SubscriberFactory(email="alice@test.example")
    SubscriptionFactory(location=SubscriberLocationFactory(client=client))
    recorder, port = Recorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtp_mailer(port):
            run = start_run(year=2026, month=11)
            run_billing_task.delay(run.pk)  # what the staff page enqueues after commit
            wait_until(lambda: BillingRun.objects.get(pk=run.pk).is_done)
            invoice = Invoice.objects.get(client=client)
            wait_until(lambda: Invoice.objects.get(pk=invoice.pk).pdf_ready)
            delivery = wait_until(
                lambda: Delivery.objects.filter(status=Delivery.Status.SENT).first()
            )
    finally:
        controller.stop()
    assert BillingRun.objects.get(pk=run.pk).created_count == 1
    assert delivery.related == invoice and delivery.to == "alice@test.example"
    [(recipients, message)] = recorder.received
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert invoice.number in pdf_text(attachment.get_payload(decode=True))
