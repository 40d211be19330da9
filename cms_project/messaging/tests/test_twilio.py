"""SMS through the real twilio.rest.Client, only its HTTP layer replaced."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from cms_project.messaging.models import Delivery, OutboxMessage
from cms_project.messaging.sending import queue_sms
from cms_project.messaging.testing import TEST_FROM, TEST_SID, TEST_TOKEN, fake_twilio

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{TEST_SID}/Messages.json"


def _send(django_capture_on_commit_callbacks, **kwargs) -> Delivery:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queue_sms(**{"to": "+15552010001", "body": "Invoice INV-1 is ready", **kwargs})
    delivery.refresh_from_db()
    return delivery


def test_it_posts_the_exact_url_and_form_fields_to_twilio(django_capture_on_commit_callbacks):
    with fake_twilio() as twilio:
        delivery = _send(django_capture_on_commit_callbacks)
    [request] = twilio.requests
    assert request.method == "POST"
    assert request.url == MESSAGES_URL
    assert request.data == {
        "To": "+15552010001",
        "From": TEST_FROM,
        "Body": "Invoice INV-1 is ready",
    }
    assert request.auth == (TEST_SID, TEST_TOKEN)
    assert delivery.status == Delivery.Status.SENT
    assert delivery.provider_id.startswith("SM")
    assert not OutboxMessage.objects.exists()


def test_an_invalid_number_fails_at_once_with_the_reason_and_no_retry(
    django_capture_on_commit_callbacks,
):
    with fake_twilio() as twilio:
        twilio.respond_error(
            400, 21211, "The 'To' number +15005550001 is not a valid phone number."
        )
        delivery = _send(django_capture_on_commit_callbacks, to="+15005550001")
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 1
    assert "not a valid phone number" in delivery.last_error
    assert "21211" in delivery.last_error
    assert delivery.next_attempt_at is None
    assert len(twilio.requests) == 1


def test_an_unsubscribed_recipient_fails_at_once(django_capture_on_commit_callbacks):
    with fake_twilio() as twilio:
        twilio.respond_error(400, 21610, "Attempt to send to unsubscribed recipient")
        delivery = _send(django_capture_on_commit_callbacks)
    assert delivery.status == Delivery.Status.FAILED
    assert "21610" in delivery.last_error


@pytest.mark.parametrize(
    "answer",
    [
        (503, {"code": 20503, "message": "Service Unavailable", "status": 503}),
        (500, "<html>Internal Server Error</html>"),
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
        (401, {"code": 20003, "message": "Authenticate", "status": 401}),
        requests.ConnectionError("Connection refused"),
        requests.Timeout("Read timed out"),
    ],
    ids=["503", "500-html", "429", "401-credentials", "connection-refused", "timeout"],
)
def test_an_outage_schedules_a_retry_with_backoff(django_capture_on_commit_callbacks, answer):
    before = timezone.now()
    with fake_twilio() as twilio:
        if isinstance(answer, Exception):
            twilio.fail_with(answer)
        else:
            twilio.respond(*answer)
        delivery = _send(django_capture_on_commit_callbacks)
    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.attempts == 1
    assert delivery.last_error
    # The first retry waits MESSAGING_RETRY_BASE_SECONDS (60 s).
    assert before + timedelta(seconds=59) < delivery.next_attempt_at
    assert delivery.next_attempt_at < timezone.now() + timedelta(seconds=61)


def test_a_retry_after_the_outage_sends_it_once(django_capture_on_commit_callbacks):
    from cms_project.messaging.tasks import deliver

    with fake_twilio() as twilio:
        twilio.respond(503, {"code": 20503, "message": "Service Unavailable", "status": 503})
        delivery = _send(django_capture_on_commit_callbacks)
        deliver(delivery.pk)  # not due yet: the backoff is respected
        assert len(twilio.requests) == 1
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        deliver(delivery.pk)
        deliver(delivery.pk)  # a duplicate task message finds nothing to do
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 2
    assert len(twilio.requests) == 2
