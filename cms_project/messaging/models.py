"""The delivery log of every email and SMS, the SMS outbox and the SMS opt-out list.

Messaging is the lowest layer of the project: it knows nothing of clients or invoices. A delivery
points at whatever it concerns (an invoice, a reminder) through a generic relation, so a higher
app can list the deliveries of its objects without this app importing it.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Delivery(models.Model):
    """One email or SMS: what was asked for, and what became of it.

    Lifecycle: queued -> sent | failed, passing through "retrying" after a transient error
    (SMTP or Twilio outage). A row is never deleted by the sending code, so an outage loses
    nothing: the row stays until a retry succeeds or the attempts run out.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=5, choices=Channel.choices)
    # Addresses are stored comma-separated (email) or as one E.164 number (SMS): readable in
    # the log and searchable with a plain icontains on every database.
    to = models.TextField("to")
    cc = models.TextField("cc", blank=True)
    bcc = models.TextField("bcc", blank=True)
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    # [{"filename": ..., "path": <name in default_storage>, "mimetype": ...}]
    attachments = models.JSONField(default=list, blank=True)
    purpose = models.CharField(max_length=50, blank=True, db_index=True)

    related_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    related_id = models.PositiveBigIntegerField(null=True, blank=True)
    related = GenericForeignKey("related_type", "related_id")

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due; the requeue sweep and the claim both read it.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker is sending; a crashed worker's claim simply expires.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField("provider message id", max_length=255, blank=True)
    last_error = models.TextField(blank=True)

    # Unique when set: a second queue_* call with the same key sends nothing. NULLs never
    # collide, so deliveries without a key are unaffected.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["related_type", "related_id"], name="messaging_delivery_related"),
            # The requeue sweep: pending rows by due time.
            models.Index(fields=["status", "next_attempt_at"], name="messaging_delivery_due"),
        ]

    def __str__(self) -> str:
        what = self.subject if self.channel == self.Channel.EMAIL else self.body[:40]
        return f"{self.get_channel_display()} to {self.to}: {what}"

    @property
    def to_list(self) -> list[str]:
        return split_addresses(self.to)

    @property
    def cc_list(self) -> list[str]:
        return split_addresses(self.cc)

    @property
    def bcc_list(self) -> list[str]:
        return split_addresses(self.bcc)

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RETRYING)

    @property
    def is_sensitive(self) -> bool:
        """One-time codes and the like: hidden in the log and never re-sent."""
        return self.purpose in settings.MESSAGING_SENSITIVE_PURPOSES

    @property
    def can_resend(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.FAILED) and not self.is_sensitive

    @property
    def related_url(self) -> str:
        """The page of the object this delivery is about, if it has one (use with the related
        objects prefetched: reading `related` otherwise costs a query)."""
        get_url = getattr(self.related, "get_absolute_url", None)
        return get_url() if get_url else ""


def split_addresses(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class OutboxMessage(models.Model):
    """An SMS recorded by the outbox backend instead of being sent (no Twilio configured)."""

    to = models.CharField(max_length=32)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"SMS to {self.to}: {self.body[:40]}"

    @property
    def provider_id(self) -> str:
        return f"outbox-{self.pk}"


class SmsOptOut(models.Model):
    """The opt-out state of one phone number (E.164).

    Keyed by number rather than by client because messaging sits below the clients app, and
    because carriers apply STOP to the number, whoever it belongs to.
    """

    number = models.CharField(max_length=32, unique=True)
    opted_out = models.BooleanField(default=True)
    # "sms:STOP", "sms:START", "consent", "staff"…: who or what changed it last.
    source = models.CharField(max_length=50, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "SMS opt-out"

    def __str__(self) -> str:
        return f"{self.number}: {'opted out' if self.opted_out else 'opted in'}"
