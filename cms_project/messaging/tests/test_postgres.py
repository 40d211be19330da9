"""On PostgreSQL with real concurrency: two callers racing on a dedupe key, and a real Celery
worker on Redis delivering through a real SMTP server."""

import threading
import time

import pytest
import redis
from django.core import mail
from django.db import close_old_connections, connections, transaction
from kombu import pools

from cms_project.celery import app as celery_app
from cms_project.messaging.models import Delivery
from cms_project.messaging.sending import queue_email
from cms_project.messaging.testing import smtp_server

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKER = "redis://127.0.0.1:6379/2"


def test_two_concurrent_calls_with_one_dedupe_key_send_once():
    barrier = threading.Barrier(2)
    results = []

    def caller():
        try:
            barrier.wait()
            with transaction.atomic():
                result = queue_email(
                    to=["alice@test.example"], subject="s", body="b", dedupe_key="invoice-7-issued"
                )
                # Hold the transaction open so the other insert has to wait for it.
                time.sleep(0.3)
            results.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2
    assert sum(r is not None for r in results) == 1
    assert Delivery.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.fixture
def real_worker(settings):
    """A Celery worker thread consuming Redis db 2, the app switched out of eager mode."""
    redis.Redis.from_url(BROKER).flushdb()  # no stale messages from an earlier run
    settings.MESSAGING_RETRY_BASE_SECONDS = 1
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


def _forget_broker_connections():
    """The app caches its producer pool per broker URL; drop it so the next send connects to
    the broker now configured."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _wait_for(delivery: Delivery, status: str, timeout: float = 30) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status == status:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"delivery {delivery.pk} is {delivery.status}, not {status}")


def test_a_real_worker_on_redis_delivers_a_queued_email(real_worker):
    with smtp_server() as smtp:
        delivery = queue_email(
            to=["alice@test.example"], bcc=["archive@test.example"], subject="Invoice", body="b"
        )
        assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.QUEUED
        delivery = _wait_for(delivery, Delivery.Status.SENT)
    assert delivery.attempts == 1
    assert len(smtp.messages) == 1
    assert sorted(smtp.messages[0].envelope_rcpt_tos) == [
        "alice@test.example",
        "archive@test.example",
    ]


def test_a_real_worker_retries_through_an_smtp_outage_and_sends_once(real_worker):
    with smtp_server(running=False) as smtp:
        delivery = queue_email(to=["alice@test.example"], subject="Invoice", body="b")
        delivery = _wait_for(delivery, Delivery.Status.RETRYING)
        assert "SMTP server unavailable" in delivery.last_error
        smtp.start()
        # The countdown retry (1 s here, 60 s by default) finds the server back.
        delivery = _wait_for(delivery, Delivery.Status.SENT)
    assert delivery.attempts >= 2
    assert len(smtp.messages) == 1
