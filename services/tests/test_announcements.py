"""New-service announcements: only to consenting clients, by the channel they consented to,
never twice, sent by a task after the transaction commits.

These go through the real messaging layer (`cms_project.messaging.sending`): deliveries are
recorded, SMS land in the outbox backend and email in Django's test outbox."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from cms_project.messaging.models import Delivery, OutboxMessage
from cms_project.messaging.optout import set_opt_out
from services.announcements import request_announcement, send_announcement
from services.models import Announcement, AnnouncementRecipient

from .factories import ServiceFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


class SentMessages:
    """What the real messaging layer recorded: the Delivery rows, seen as simple dicts."""

    class _Keys:
        def clear(self):
            Delivery.objects.all().delete()  # e.g. the delivery log was purged

    class _OptOuts:
        def add(self, number):
            set_opt_out(number=number, opted_out=True, source="test")

    keys = _Keys()
    opted_out = _OptOuts()

    def _rows(self, channel):
        return Delivery.objects.filter(channel=channel).order_by("pk")

    @property
    def sms(self) -> list[dict]:
        return [
            {"to": d.to, "body": d.body, "purpose": d.purpose, "key": d.dedupe_key}
            for d in self._rows(Delivery.Channel.SMS)
        ]

    @property
    def emails(self) -> list[dict]:
        return [
            {
                "to": d.to.split(","),
                "subject": d.subject,
                "body": d.body,
                "html": d.html_body,
                "key": d.dedupe_key,
            }
            for d in self._rows(Delivery.Channel.EMAIL)
        ]


@pytest.fixture
def sending():
    return SentMessages()


@pytest.fixture
def audience():
    return {
        "both": SubscriberFactory(
            name="Both",
            phone="+12175550101",
            email="both@test.example",
            consent_sms=True,
            consent_email_marketing=True,
        ),
        "sms_only": SubscriberFactory(
            name="Sms",
            phone="+12175550102",
            email="sms@test.example",
            consent_sms=True,
        ),
        "email_only": SubscriberFactory(
            name="Mail",
            phone="+12175550103",
            email="mail@test.example",
            consent_email_marketing=True,
        ),
        "neither": SubscriberFactory(
            name="Nobody",
            phone="+12175550104",
            email="nobody@test.example",
        ),
        "sms_consent_no_phone": SubscriberFactory(name="No phone", consent_sms=True),
        "email_consent_no_address": SubscriberFactory(
            name="No email", email="", consent_email_marketing=True
        ),
        "former": SubscriberFactory(
            name="Former",
            phone="+12175550105",
            email="former@test.example",
            consent_sms=True,
            consent_email_marketing=True,
            status="cancelled",
        ),
    }


@pytest.fixture
def new_service():
    return ServiceFactory(name="Fiber 2 Gig", price="119.99", description="Twice the speed.")


def test_the_announcement_goes_only_to_consenting_clients_by_their_channel(
    sending, audience, new_service, django_capture_on_commit_callbacks
):
    announcement = Announcement.objects.create(service=new_service)
    with django_capture_on_commit_callbacks(execute=True):  # the delivery tasks run at commit
        send_announcement(announcement_id=announcement.pk)
    assert sorted(m["to"] for m in sending.sms) == ["+12175550101", "+12175550102"]
    assert sorted(m["to"][0] for m in sending.emails) == ["both@test.example", "mail@test.example"]
    sms = sending.sms[0]
    assert "Fiber 2 Gig" in sms["body"] and "$119.99/month" in sms["body"]
    assert "STOP" in sms["body"] and sms["purpose"] == "service_announcement"
    email = sending.emails[0]
    assert email["subject"] == "New from Data Plus Fiber: Fiber 2 Gig"
    assert "Twice the speed." in email["body"] and "/portal/services/catalog/" in email["body"]
    assert "Fiber 2 Gig" in email["html"]
    announcement.refresh_from_db()
    assert (announcement.sms_count, announcement.email_count) == (2, 2)
    assert announcement.finished_at is not None
    # …and they really went out: SMS to the outbox backend, email through the mailer.
    assert sorted(OutboxMessage.objects.values_list("to", flat=True)) == [
        "+12175550101",
        "+12175550102",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["both@test.example", "mail@test.example"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_the_dedupe_keys_name_service_client_and_channel(sending, audience, new_service):
    announcement = Announcement.objects.create(service=new_service)
    send_announcement(announcement_id=announcement.pk)
    both = audience["both"]
    assert f"announce:{new_service.pk}:{both.pk}:sms" in {m["key"] for m in sending.sms}
    assert f"announce:{new_service.pk}:{both.pk}:email" in {m["key"] for m in sending.emails}


def test_running_the_task_again_messages_nobody_twice(sending, audience, new_service):
    announcement = Announcement.objects.create(service=new_service)
    send_announcement(announcement_id=announcement.pk)
    send_announcement(announcement_id=announcement.pk)
    assert len(sending.sms) == 2 and len(sending.emails) == 2
    assert AnnouncementRecipient.objects.count() == 4


def test_our_own_record_prevents_a_second_message_even_if_the_outbox_forgot(
    sending, audience, new_service
):
    announcement = Announcement.objects.create(service=new_service)
    send_announcement(announcement_id=announcement.pk)
    sending.keys.clear()  # e.g. the delivery log was purged
    send_announcement(announcement_id=announcement.pk)
    assert sending.sms == [] and sending.emails == []  # nothing queued a second time


def test_an_opted_out_number_is_recorded_as_not_queued(sending, audience, new_service):
    sending.opted_out.add("+12175550102")
    announcement = Announcement.objects.create(service=new_service)
    send_announcement(announcement_id=announcement.pk)
    record = AnnouncementRecipient.objects.get(client=audience["sms_only"], channel="sms")
    assert not record.queued
    announcement.refresh_from_db()
    assert announcement.sms_count == 1


def test_a_service_is_announced_once(sending, staff_user, new_service):
    request_announcement(service=new_service, requested_by=staff_user)
    with pytest.raises(ValidationError, match="already announced"):
        request_announcement(service=new_service, requested_by=staff_user)


@pytest.mark.parametrize("changes", [{"visible_to_clients": False}, {"is_active": False}])
def test_only_active_client_visible_services_can_be_announced(staff_user, changes):
    service = ServiceFactory(**changes)
    with pytest.raises(ValidationError, match="Only active services visible to clients"):
        request_announcement(service=service, requested_by=staff_user)
    assert not Announcement.objects.exists()


def test_staff_announce_from_the_service_page_and_sending_waits_for_the_commit(
    sending, audience, new_service, login, staff_user, django_capture_on_commit_callbacks
):
    client = login(staff_user)
    url = reverse("services:service_announce", args=[new_service.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url)
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert sending.sms == []  # nothing is sent inside the request's transaction
    callbacks[0]()  # the commit: the Celery task runs (eagerly in tests)
    assert len(sending.sms) == 2 and len(sending.emails) == 2
    page = client.get(reverse("services:service_detail", args=[new_service.pk])).content.decode()
    assert "2 SMS and 2 emails queued" in page
    # The button is gone, and a second POST is refused with a message.
    assert url not in page
    response = client.post(url, follow=True)
    assert "already announced" in response.content.decode()
    assert Announcement.objects.count() == 1


def test_a_failing_send_never_fails_the_staff_request(
    sending,
    audience,
    new_service,
    login,
    staff_user,
    django_capture_on_commit_callbacks,
    monkeypatch,
    caplog,
):
    def broken(**kwargs):
        raise ConnectionError("provider down")

    monkeypatch.setattr("cms_project.messaging.sending.queue_sms", broken)
    monkeypatch.setattr("services.tasks.send_service_announcement.max_retries", 0)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(staff_user).post(
            reverse("services:service_announce", args=[new_service.pk])
        )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert announcement.finished_at is None  # shown as "sending…"; the error is logged
    assert "provider down" in caplog.text


def test_clients_cannot_announce(login, alice_user, new_service):
    assert (
        login(alice_user)
        .post(reverse("services:service_announce", args=[new_service.pk]))
        .status_code
        == 403
    )
    assert not Announcement.objects.exists()
