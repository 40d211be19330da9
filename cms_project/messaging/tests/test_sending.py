"""queue_email / queue_sms: a delivery row, sent after commit, once per dedupe key."""

import pytest
from django.core import mail

from cms_project.messaging.models import Delivery, OutboxMessage
from cms_project.messaging.sending import DeliveryError, queue_email, queue_sms, resend

pytestmark = pytest.mark.django_db


def test_queue_email_records_a_delivery_and_sends_it_after_commit(
    django_capture_on_commit_callbacks, staff_user
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = queue_email(
            to=["alice@test.example"],
            cc=["office@test.example"],
            bcc=["archive@test.example"],
            subject="Your invoice\nINV-1",
            body="Hello",
            html_body="<p>Hello</p>",
            purpose="invoice",
            related=staff_user,
        )
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == 1
    assert delivery.provider_id.startswith("<")
    assert delivery.subject == "Your invoice INV-1"
    assert delivery.related == staff_user
    [message] = mail.outbox
    assert message.to == ["alice@test.example"]
    assert message.cc == ["office@test.example"]
    assert message.bcc == ["archive@test.example"]
    assert message.alternatives[0].content == "<p>Hello</p>"
    assert message.extra_headers["Message-ID"] == delivery.provider_id


def test_queue_sms_records_a_delivery_and_the_outbox_keeps_the_message(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = queue_sms(to="(555) 201-0001", body="Your bill is ready", purpose="invoice")
    delivery.refresh_from_db()
    assert delivery.to == "+15552010001"
    assert delivery.status == Delivery.Status.SENT
    outbox = OutboxMessage.objects.get()
    assert (outbox.to, outbox.body) == ("+15552010001", "Your bill is ready")
    assert delivery.provider_id == f"outbox-{outbox.pk}"


def test_nothing_is_sent_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            from django.db import transaction

            with transaction.atomic():
                queue_email(to=["alice@test.example"], subject="s", body="b")
                raise RuntimeError("the invoice failed to issue")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_a_dedupe_key_sends_only_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_email(to=["a@test.example"], subject="s", body="b", dedupe_key="k-1")
        second = queue_email(to=["a@test.example"], subject="s", body="b", dedupe_key="k-1")
        third = queue_sms(to="+15552010001", body="b", dedupe_key="k-1")
    assert first is not None
    assert second is None and third is None
    assert len(mail.outbox) == 1
    assert Delivery.objects.count() == 1


def test_deliveries_without_a_dedupe_key_never_collide(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue_email(to=["a@test.example"], subject="s", body="b")
        queue_email(to=["a@test.example"], subject="s", body="b")
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"to": []}, ValueError),
        ({"to": ["not-an-address"]}, ValueError),
        ({"to": "alice@test.example"}, TypeError),
        ({"to": ["a@test.example"], "cc": ["bad"]}, ValueError),
    ],
)
def test_queue_email_rejects_bad_addresses(kwargs, error):
    with pytest.raises(error):
        queue_email(subject="s", body="b", **kwargs)
    assert not Delivery.objects.exists()


def test_an_sms_to_something_that_is_not_a_number_is_logged_failed_not_raised(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = queue_sms(to="call me", body="b")
    assert callbacks == []
    assert delivery.status == Delivery.Status.FAILED
    assert "not a phone number" in delivery.last_error
    assert not OutboxMessage.objects.exists()


def test_resend_creates_a_new_queued_copy_and_sends_it(
    django_capture_on_commit_callbacks, staff_user
):
    with django_capture_on_commit_callbacks(execute=True):
        original = queue_email(
            to=["a@test.example"],
            cc=["c@test.example"],
            subject="s",
            body="b",
            purpose="invoice",
            related=staff_user,
            dedupe_key="invoice-1-issued",
        )
    original.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        copy = resend(delivery=original, by=staff_user)
    copy.refresh_from_db()
    assert copy.pk != original.pk
    assert copy.resent_from == original
    assert copy.requested_by == staff_user
    assert (copy.to, copy.cc, copy.subject, copy.purpose) == (
        "a@test.example",
        "c@test.example",
        "s",
        "invoice",
    )
    assert copy.related == staff_user
    assert copy.dedupe_key is None
    assert copy.status == Delivery.Status.SENT
    assert len(mail.outbox) == 2


def test_a_queued_delivery_cannot_be_resent(staff_user):
    delivery = queue_email(to=["a@test.example"], subject="s", body="b")
    with pytest.raises(DeliveryError):
        resend(delivery=delivery, by=staff_user)


def test_resending_a_bad_number_fails_again_without_reaching_the_outbox(
    django_capture_on_commit_callbacks, staff_user
):
    failed = queue_sms(to="call me", body="b")
    with django_capture_on_commit_callbacks(execute=True):
        copy = resend(delivery=failed, by=staff_user)
    copy.refresh_from_db()
    assert copy.status == Delivery.Status.FAILED
    assert "not a phone number" in copy.last_error
    assert not OutboxMessage.objects.exists()
