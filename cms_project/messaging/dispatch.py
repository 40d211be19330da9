"""Sending one delivery: claim it, send it through the email or SMS backend, record the outcome.

Exactly-once, as far as our side can ensure it: a delivery is first *claimed* with one atomic
UPDATE (pending, due, and not claimed by a live worker), so duplicate task messages — the
requeue sweep, a broker redelivery, a retry countdown — find nothing to do. The claim is a
timestamp rather than a held row lock, so no transaction stays open while SMTP or Twilio
answers; a worker that dies mid-send leaves a claim that expires and the sweep retries it.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, mailers, make_msgid
from django.core.mail.utils import DNS_NAME
from django.db.models import F, Q
from django.utils import timezone

from .models import Delivery
from .numbers import to_e164
from .optout import is_opted_out
from .sms import SmsError, get_sms_backend

logger = logging.getLogger(__name__)

PENDING = (Delivery.Status.QUEUED, Delivery.Status.RETRYING)
# A countdown may fire a little before the clock that set next_attempt_at says it is due.
EARLY_TOLERANCE = timedelta(seconds=5)


class TransientFailure(Exception):
    """Worth trying again later (outage, timeout, rate limit)."""


class PermanentFailure(Exception):
    """Will never succeed (invalid number, rejected recipient): fail the delivery now."""


@dataclass(frozen=True)
class Outcome:
    status: str  # a Delivery.Status, or "skipped" when there was nothing to do
    retry_in: int | None = None  # seconds until the next attempt, when retrying


SKIPPED = Outcome("skipped")


def retry_delay(attempts: int) -> int:
    """Exponential backoff after the n-th failed attempt: base, 2×base, 4×base… capped."""
    base = settings.MESSAGING_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.MESSAGING_RETRY_MAX_SECONDS)


def claim(*, delivery_id: int) -> Delivery | None:
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status__in=PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + EARLY_TOLERANCE))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=settings.MESSAGING_CLAIM_SECONDS),
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            updated_at=now,
        )
    )
    return Delivery.objects.get(pk=delivery_id) if claimed else None


def attempt(*, delivery_id: int) -> Outcome:
    """Make one attempt at a delivery, if it is pending and due; record what happened."""
    delivery = claim(delivery_id=delivery_id)
    if delivery is None:
        return SKIPPED
    try:
        if delivery.channel == Delivery.Channel.EMAIL:
            provider_id = send_email(delivery)
        else:
            provider_id = send_sms(delivery)
    except PermanentFailure as exc:
        return _record(delivery, Delivery.Status.FAILED, error=str(exc))
    except TransientFailure as exc:
        return _record_transient(delivery, str(exc))
    except Exception as exc:
        # An error we did not foresee: keep the message and retry rather than lose it.
        logger.exception("Delivery %s: unexpected error while sending", delivery.pk)
        return _record_transient(delivery, f"{type(exc).__name__}: {exc}")
    return _record(delivery, Delivery.Status.SENT, provider_id=provider_id)


def _record_transient(delivery: Delivery, error: str) -> Outcome:
    if delivery.attempts >= settings.MESSAGING_MAX_ATTEMPTS:
        return _record(
            delivery,
            Delivery.Status.FAILED,
            error=f"Gave up after {delivery.attempts} attempts. Last error: {error}",
        )
    delay = retry_delay(delivery.attempts)
    delivery.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    outcome = _record(delivery, Delivery.Status.RETRYING, error=error)
    return Outcome(outcome.status, retry_in=delay)


def _record(delivery: Delivery, status: str, *, error: str = "", provider_id: str = "") -> Outcome:
    now = timezone.now()
    delivery.status = status
    delivery.claimed_until = None
    if status == Delivery.Status.SENT:
        delivery.provider_id = provider_id[:255]
        delivery.sent_at = now
        delivery.next_attempt_at = None
    else:
        delivery.last_error = error
        if status == Delivery.Status.FAILED:
            delivery.next_attempt_at = None
    delivery.save(
        update_fields=[
            "status",
            "claimed_until",
            "provider_id",
            "sent_at",
            "next_attempt_at",
            "last_error",
            "updated_at",
        ]
    )
    log = logger.info if status == Delivery.Status.SENT else logger.warning
    detail = f" ({error})" if error else ""
    log("Delivery %s (%s to %s): %s%s", delivery.pk, delivery.channel, delivery.to, status, detail)
    return Outcome(status)


# --- Email ----------------------------------------------------------------------------------
def build_email(delivery: Delivery) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=delivery.subject,
        body=delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=delivery.to_list,
        cc=delivery.cc_list,
        # Bcc addresses go into the SMTP envelope only; Django never writes a Bcc header.
        bcc=delivery.bcc_list,
        headers={"Message-ID": make_msgid(domain=DNS_NAME)},
    )
    if delivery.html_body:
        message.attach_alternative(delivery.html_body, "text/html")
    for attachment in delivery.attachments:
        try:
            with default_storage.open(attachment["path"], "rb") as f:
                content = f.read()
        except FileNotFoundError:
            # The file (an invoice PDF) may still be rendering in another task.
            raise TransientFailure(
                f"Attachment {attachment['filename']} is not in storage yet."
            ) from None
        message.attach(attachment["filename"], content, attachment.get("mimetype") or None)
    return message


def send_email(delivery: Delivery) -> str:
    try:
        message = build_email(delivery)
    except (ValueError, TypeError, KeyError) as exc:
        raise PermanentFailure(f"The message could not be built: {exc}") from exc
    try:
        mailers.default.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"Recipients refused: {detail}") from exc
        raise TransientFailure(f"Recipients refused for now: {detail}") from exc
    except smtplib.SMTPResponseException as exc:
        text = f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
        # 5xx is final, except for authentication, which an operator can fix.
        if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise PermanentFailure(text) from exc
        raise TransientFailure(text) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Connection refused, timeouts, DNS failures, a server hanging up.
        raise TransientFailure(f"SMTP server unavailable: {type(exc).__name__}: {exc}") from exc
    return message.extra_headers["Message-ID"]


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# --- SMS ------------------------------------------------------------------------------------
def send_sms(delivery: Delivery) -> str:
    if to_e164(delivery.to) != delivery.to:
        # queue_sms stores E.164 only; anything else (a re-send of a failed bad number) must
        # not reach a backend, least of all the outbox, which would "send" it.
        raise PermanentFailure(f"{delivery.to!r} is not a phone number.")
    # The number may have replied STOP after the message was queued.
    if is_opted_out(delivery.to):
        raise PermanentFailure("The recipient has opted out of SMS (STOP).")
    try:
        return get_sms_backend().send(to=delivery.to, body=delivery.body)
    except SmsError as exc:
        if exc.permanent:
            raise PermanentFailure(str(exc)) from exc
        raise TransientFailure(str(exc)) from exc


# --- The sweep ------------------------------------------------------------------------------
def due_for_requeue(*, limit: int = 1000) -> list[int]:
    """Pending deliveries nobody picked up: queued while the broker was down, or a retry whose
    countdown message was lost. Marks them as just enqueued, so the next sweep leaves them
    alone for another interval."""
    now = timezone.now()
    stale = now - timedelta(minutes=settings.MESSAGING_REQUEUE_AFTER_MINUTES)
    ids = list(
        Delivery.objects.filter(status__in=PENDING, next_attempt_at__lte=stale)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    Delivery.objects.filter(pk__in=ids, status__in=PENDING).update(
        next_attempt_at=now, updated_at=now
    )
    return ids
