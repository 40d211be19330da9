"""Background tasks of the services app (primary keys in; enqueued after commit)."""

from celery import shared_task


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_service_announcement(announcement_id: int) -> dict:
    """Queue the SMS and emails of a new-service announcement. Retrying is safe: recipients
    already handled are skipped (see services.announcements)."""
    from .announcements import send_announcement

    announcement = send_announcement(announcement_id=announcement_id)
    return {"sms": announcement.sms_count, "email": announcement.email_count}


@shared_task
def close_ended_subscriptions() -> int:
    """Daily: subscriptions whose last day has passed become cancelled."""
    from .subscriptions import close_ended_subscriptions as close

    return close()
