"""The retry schedule, the claim that stops double sends, and the beat sweep."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from kombu.exceptions import OperationalError

from cms_project.celery import app as celery_app
from cms_project.messaging.dispatch import retry_delay
from cms_project.messaging.models import Delivery
from cms_project.messaging.sending import queue_email
from cms_project.messaging.tasks import deliver, requeue_stale_deliveries

pytestmark = pytest.mark.django_db


def _pending(minutes_ago: float, **fields) -> Delivery:
    return Delivery.objects.create(
        channel="email",
        to="a@test.example",
        subject="s",
        body="b",
        next_attempt_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_the_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [retry_delay(n) for n in range(1, 10)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600, 3600,
    ]  # fmt: skip


def test_the_sweep_is_on_the_beat_schedule_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["messaging-requeue-stale-deliveries"]
    assert entry["schedule"] == 60.0
    assert entry["task"] in celery_app.tasks
    assert entry["task"] == requeue_stale_deliveries.name


def test_a_broker_down_at_enqueue_time_loses_nothing_and_the_sweep_sends_it_later(
    django_capture_on_commit_callbacks,
):
    with (
        mock.patch.object(deliver, "delay", side_effect=OperationalError("Connection refused")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = queue_email(to=["a@test.example"], subject="s", body="b")  # no exception
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED
    assert mail.outbox == []

    assert requeue_stale_deliveries() == 0  # too recent: it may still be in the queue
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=6)
    )
    assert requeue_stale_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


def test_the_sweep_takes_only_overdue_unclaimed_pending_rows():
    overdue_queued = _pending(10)
    overdue_retry = _pending(10, status=Delivery.Status.RETRYING, attempts=2)
    _pending(1)  # recent
    _pending(10, status=Delivery.Status.SENT)
    _pending(10, status=Delivery.Status.FAILED)
    _pending(10, claimed_until=timezone.now() + timedelta(minutes=3))  # a worker is on it
    crashed = _pending(10, claimed_until=timezone.now() - timedelta(seconds=1))
    with mock.patch.object(deliver, "delay") as delay:
        assert requeue_stale_deliveries() == 3
        assert requeue_stale_deliveries() == 0  # marked as just enqueued
    assert sorted(c.args[0] for c in delay.call_args_list) == sorted(
        [overdue_queued.pk, overdue_retry.pk, crashed.pk]
    )


def test_a_delivery_claimed_by_another_worker_is_not_sent_twice():
    delivery = _pending(0, claimed_until=timezone.now() + timedelta(minutes=5))
    assert deliver(delivery.pk) == "skipped"
    assert mail.outbox == []


def test_a_retry_that_is_not_due_yet_waits():
    delivery = _pending(-2, status=Delivery.Status.RETRYING, attempts=1)
    assert deliver(delivery.pk) == "skipped"
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliver(delivery.pk) == Delivery.Status.SENT
    assert deliver(delivery.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_a_delivery_that_no_longer_exists_is_skipped():
    assert deliver(987654) == "skipped"


def test_the_command_sends_overdue_deliveries_and_with_all_the_waiting_retries():
    _pending(10)
    _pending(-30, status=Delivery.Status.RETRYING, attempts=1)
    out = StringIO()
    call_command("send_pending_deliveries", stdout=out)
    assert "1 pending" in out.getvalue()
    assert len(mail.outbox) == 1
    call_command("send_pending_deliveries", "--all", stdout=out)
    assert len(mail.outbox) == 2
    assert not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
