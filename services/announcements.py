"""New-service announcements: staff announce a newly published, client-visible service by SMS
to clients who consented to SMS and by email to those who consented to marketing email.

Never to anyone else, and never twice to the same client for the same service: a service is
announced at most once (`Announcement` is one-to-one with the service), each (client, channel)
gets an `AnnouncementRecipient` row under a unique constraint, and every message carries a
dedupe key (`announce:<service>:<client>:sms|email`) that the messaging layer refuses to queue
twice. A task retried after a crash therefore picks up where it stopped.

Sending goes through `cms_project.messaging.sending` (the delivery log, built alongside this
app), imported when the task runs.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from cms_project.money import format_money

from .catalog import price_in_effect
from .models import Announcement, AnnouncementRecipient, Service

Channel = AnnouncementRecipient.Channel


def announcement_blocker(service: Service) -> str:
    """Why a service cannot be announced now, or ''."""
    if hasattr(service, "announcement"):
        return f"“{service.name}” was already announced; clients hear about a service once."
    if not (service.is_active and service.visible_to_clients):
        return "Only active services visible to clients can be announced."
    return ""


@transaction.atomic
def request_announcement(*, service: Service, requested_by) -> Announcement:
    """Record the announcement and send it in the background once this transaction commits."""
    # Lock the service so two staff clicking at once create one announcement, not an error.
    service = Service.objects.select_for_update().get(pk=service.pk)
    blocker = announcement_blocker(service)
    if blocker:
        raise ValidationError(blocker)
    announcement = Announcement.objects.create(service=service, requested_by=requested_by)
    from .tasks import send_service_announcement

    # robust: if the broker is down (or, with eager tasks, sending fails) the staff member's
    # request still succeeds; the announcement stays "sending…" and the error is logged.
    transaction.on_commit(lambda: send_service_announcement.delay(announcement.pk), robust=True)
    return announcement


def sms_audience() -> QuerySet[Client]:
    """Clients who consented to SMS and have a number. Former (cancelled) clients are left out."""
    return (
        Client.objects.filter(consent_sms=True)
        .exclude(phone="")
        .exclude(phone__isnull=True)
        .exclude(status=Client.Status.CANCELLED)
    )


def email_audience() -> QuerySet[Client]:
    """Clients who consented to marketing email and have an address; not former clients."""
    return (
        Client.objects.filter(consent_email_marketing=True)
        .exclude(email="")
        .exclude(status=Client.Status.CANCELLED)
    )


def _message_context(service: Service) -> dict:
    price = price_in_effect(service=service, on=timezone.localdate())
    return {
        "service": service,
        "price": format_money(price) if price is not None else "",
        "company_name": settings.COMPANY["name"],
        "catalog_url": settings.COMPANY["portal_url"].rstrip("/")
        + reverse("services_portal:catalog"),
    }


def send_announcement(*, announcement_id: int) -> Announcement:
    """Queue the messages of an announcement (the task's body). Safe to run again."""
    from cms_project.messaging.sending import queue_email, queue_sms

    announcement = Announcement.objects.select_related("service").get(pk=announcement_id)
    service = announcement.service
    context = _message_context(service)
    sms_body = render_to_string("services/email/announcement_sms.txt", context).strip()
    subject = render_to_string("services/email/announcement_subject.txt", context).strip()
    text_body = render_to_string("services/email/announcement.txt", context)
    html_body = render_to_string("services/email/announcement.html", context)

    def _send(client: Client, channel: str, queue) -> None:
        # One transaction per recipient: the record and the queued delivery stand or fall
        # together, so a crash never leaves a client marked sent but not messaged, or twice.
        with transaction.atomic():
            record, created = AnnouncementRecipient.objects.get_or_create(
                announcement=announcement, client=client, channel=channel
            )
            if not created:
                return
            delivery = queue(client)
            if delivery is None:  # opted out, or already queued under this dedupe key
                record.queued = False
                record.save(update_fields=["queued"])

    for client in sms_audience().iterator(chunk_size=500):
        _send(
            client,
            Channel.SMS,
            lambda c: queue_sms(
                to=c.phone.as_e164,
                body=sms_body,
                purpose="service_announcement",
                related=service,
                dedupe_key=f"announce:{service.pk}:{c.pk}:sms",
            ),
        )
    for client in email_audience().iterator(chunk_size=500):
        _send(
            client,
            Channel.EMAIL,
            lambda c: queue_email(
                to=[c.email],
                subject=subject,
                body=text_body,
                html_body=html_body,
                purpose="service_announcement",
                related=service,
                dedupe_key=f"announce:{service.pk}:{c.pk}:email",
            ),
        )
    recipients = announcement.recipients.filter(queued=True)
    announcement.sms_count = recipients.filter(channel=Channel.SMS).count()
    announcement.email_count = recipients.filter(channel=Channel.EMAIL).count()
    announcement.finished_at = timezone.now()
    announcement.save(update_fields=["sms_count", "email_count", "finished_at"])
    return announcement
