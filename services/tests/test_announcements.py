"""New-service announcements: only to consenting clients, by the channel they consented to,
never twice, sent by a task after the transaction commits.

The messaging API (`cms_project.messaging.sending`) is built in parallel; these tests inject a
small fake of it that records calls and honours `dedupe_key` the way the real one promises."""

import sys
import types

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from services.announcements import request_announcement, send_announcement
from services.models import Announcement, AnnouncementRecipient

from .factories import ServiceFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


class FakeSending(types.ModuleType):
    def __init__(self):
        super().__init__("cms_project.messaging.sending")
        self.sms: list[dict] = []
        self.emails: list[dict] = []
        self.keys: set[str] = set()
        self.opted_out: set[str] = set()

    def _dedupe(self, key):
        if key in self.keys:
            return True
        self.keys.add(key)
        return False

    def queue_sms(self, *, to, body, purpose="", related=None, dedupe_key=None):
        if to in self.opted_out or self._dedupe(dedupe_key):
            return None
        self.sms.append({"to": to, "body": body, "purpose": purpose, "key": dedupe_key})
        return object()

    def queue_email(
        self,
        *,
        to,
        subject,
        body,
        html_body="",
        purpose="",
        related=None,
        dedupe_key=None,
        cc=(),
        bcc=(),
        attachments=(),
    ):
        if self._dedupe(dedupe_key):
            return None
        self.emails.append(
            {"to": to, "subject": subject, "body": body, "html": html_body, "key": dedupe_key}
        )
        return object()


@pytest.fixture
def sending(monkeypatch):
    fake = FakeSending()
    monkeypatch.setitem(sys.modules, "cms_project.messaging.sending", fake)
    return fake


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
    sending, audience, new_service
):
    announcement = Announcement.objects.create(service=new_service)
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
    assert len(sending.sms) == 2 and len(sending.emails) == 2


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

    monkeypatch.setattr(sending, "queue_sms", broken)
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
