"""Background tasks: deliver one message; sweep up the ones nobody picked up."""

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from . import dispatch

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    """One attempt at a delivery; on a transient failure, schedule the next with backoff.

    The backoff lives on the row (`next_attempt_at`), not only in the countdown message, so a
    lost message or a restarted broker costs a delay, never the delivery.
    """
    outcome = dispatch.attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        schedule_retry(delivery_id, outcome.retry_in)
    return outcome.status


def schedule_retry(delivery_id: int, countdown: int) -> None:
    if deliver.app.conf.task_always_eager:
        # Eager mode would run the "later" attempt right now, in a loop; without a broker the
        # retry is left to `requeue_stale_deliveries` (`manage.py send_pending_deliveries`).
        return
    try:
        deliver.apply_async((delivery_id,), countdown=countdown)
    except (OperationalError, OSError) as exc:
        logger.warning("Retry of delivery %s not scheduled (%s); the sweep will", delivery_id, exc)


@shared_task(ignore_result=True)
def requeue_stale_deliveries() -> int:
    """Beat, every minute: enqueue pending deliveries that should have been sent by now."""
    ids = dispatch.due_for_requeue()
    for delivery_id in ids:
        deliver.delay(delivery_id)
    if ids:
        logger.info("Re-enqueued %d stale deliveries", len(ids))
    return len(ids)
