"""SMS opt-out: STOP replies through the signed Twilio webhook, and consent changes."""

import pytest
from django.test import override_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from cms_project.messaging.models import Delivery, OutboxMessage, SmsOptOut
from cms_project.messaging.sending import is_opted_out, queue_sms, resend, set_opt_out
from cms_project.messaging.testing import TEST_TOKEN, twilio_settings

pytestmark = pytest.mark.django_db

INBOUND_URL = "http://testserver/messaging/twilio/inbound/"


def _post_inbound(client, params: dict, *, signature: str | None = None, url=INBOUND_URL):
    if signature is None:
        signature = RequestValidator(TEST_TOKEN).compute_signature(url, params)
    return client.post(
        reverse("messaging:twilio_inbound"), params, headers={"X-Twilio-Signature": signature}
    )


def _inbound(body: str, sender: str = "+15552010001") -> dict:
    return {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
    }


def test_queue_sms_to_an_opted_out_number_returns_none_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    set_opt_out(number="(555) 201-0001", opted_out=True, source="consent")
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_sms(to="+1 555 201 0001", body="hello") is None
    assert not Delivery.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_opting_back_in_allows_sms_again(django_capture_on_commit_callbacks):
    set_opt_out(number="+15552010001", opted_out=True, source="consent")
    record = set_opt_out(number="+15552010001", opted_out=False, source="consent")
    assert (record.number, record.opted_out) == ("+15552010001", False)
    assert not is_opted_out("+15552010001")
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_sms(to="+15552010001", body="hello") is not None
    assert OutboxMessage.objects.count() == 1


def test_a_number_that_opts_out_after_queuing_is_not_sent_to(
    django_capture_on_commit_callbacks,
):
    delivery = queue_sms(to="+15552010001", body="hello")  # on_commit not run yet
    set_opt_out(number="+15552010001", opted_out=True, source="sms:STOP")
    from cms_project.messaging.tasks import deliver

    deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "opted out" in delivery.last_error
    assert not OutboxMessage.objects.exists()


def test_resending_to_an_opted_out_number_sends_nothing(
    django_capture_on_commit_callbacks, staff_user
):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queue_sms(to="+15552010001", body="hello")
    delivery.refresh_from_db()
    set_opt_out(number="+15552010001", opted_out=True, source="sms:STOP")
    assert resend(delivery=delivery, by=staff_user) is None
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop. ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
)
def test_a_signed_stop_reply_opts_the_number_out(client, word):
    with twilio_settings():
        response = _post_inbound(client, _inbound(word))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert is_opted_out("+15552010001")
    assert SmsOptOut.objects.get().source == f"sms:{word.strip(' .').upper()}"


@pytest.mark.parametrize("word", ["START", "unstop"])
def test_a_signed_start_reply_opts_the_number_back_in(client, word):
    set_opt_out(number="+15552010001", opted_out=True, source="sms:STOP")
    with twilio_settings():
        assert _post_inbound(client, _inbound(word)).status_code == 200
    assert not is_opted_out("+15552010001")


def test_an_ordinary_reply_changes_nothing(client):
    with twilio_settings():
        assert _post_inbound(client, _inbound("Please stop by on Tuesday")).status_code == 200
    assert not SmsOptOut.objects.exists()


def test_a_bad_signature_is_refused_with_403(client):
    with twilio_settings():
        response = _post_inbound(client, _inbound("STOP"), signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_a_signature_for_other_parameters_is_refused(client):
    signed = RequestValidator(TEST_TOKEN).compute_signature(INBOUND_URL, _inbound("START"))
    with twilio_settings():
        response = _post_inbound(client, _inbound("STOP"), signature=signed)
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_a_missing_signature_is_refused(client):
    with twilio_settings():
        response = client.post(reverse("messaging:twilio_inbound"), _inbound("STOP"))
    assert response.status_code == 403


def test_without_twilio_configured_the_webhook_refuses_everything(client):
    response = _post_inbound(client, _inbound("STOP"))
    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_the_configured_public_url_is_what_the_signature_covers(client):
    public_url = "https://cms.example.com/messaging/twilio/inbound/"
    with twilio_settings(), override_settings(TWILIO_INBOUND_URL=public_url):
        assert _post_inbound(client, _inbound("STOP"), url=public_url).status_code == 200
    assert is_opted_out("+15552010001")


def test_the_webhook_takes_only_post(client):
    assert client.get(reverse("messaging:twilio_inbound")).status_code == 405
