"""Queue an email or SMS: the one way any part of the project sends a message.

    from cms_project.messaging.sending import queue_email, queue_sms

Both record a `Delivery` and hand its primary key to the `deliver` task once the surrounding
transaction commits, so a rolled-back invoice never emails anyone, and the request never waits
on SMTP or Twilio (unless tasks run eagerly, the no-broker default). Failures never raise here:
they are recorded on the delivery and retried.
"""

import logging
from collections.abc import Iterable, Sequence
from email.utils import parseaddr
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from .models import Delivery
from .numbers import to_e164
from .optout import is_opted_out, set_opt_out

__all__ = [
    "DeliveryError",
    "enqueue",
    "is_opted_out",
    "queue_email",
    "queue_sms",
    "resend",
    "set_opt_out",
]

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A request the delivery log cannot honour (e.g. re-sending a message still queued)."""


def queue_email(
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    html_body: str = "",
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    attachments: Iterable[tuple[str, str, str]] = (),
    purpose: str = "",
    related: models.Model | None = None,
    dedupe_key: str | None = None,
) -> Delivery | None:
    """Queue an email. Returns None (and sends nothing) if `dedupe_key` was used before.

    `attachments` are (filename, name in default_storage, mimetype); the file is read when the
    message is sent, so it may still be being rendered when this is called (a missing file is
    retried like an outage).
    """
    to, cc, bcc = _addresses(to, "to"), _addresses(cc, "cc"), _addresses(bcc, "bcc")
    if not to:
        raise ValueError("An email needs at least one 'to' address.")
    return _create(
        channel=Delivery.Channel.EMAIL,
        to=", ".join(to),
        cc=", ".join(cc),
        bcc=", ".join(bcc),
        # Header injection is impossible by construction: a subject is one line.
        subject=" ".join(str(subject).split())[:500],
        body=body,
        html_body=html_body,
        attachments=[
            {"filename": filename, "path": path, "mimetype": mimetype}
            for filename, path, mimetype in attachments
        ],
        purpose=purpose[:50],
        related=related,
        dedupe_key=dedupe_key,
    )


def queue_sms(
    *,
    to: str,
    body: str,
    purpose: str = "",
    related: models.Model | None = None,
    dedupe_key: str | None = None,
) -> Delivery | None:
    """Queue an SMS. Returns None if the number opted out (STOP) or `dedupe_key` was used.

    Consent and verification of the number are the caller's business (the clients app knows
    them); the opt-out list is checked here and again when sending.
    """
    number = to_e164(to)
    if number is not None and is_opted_out(number):
        return None
    fields = {}
    if number is None:
        # Recorded as failed rather than raised: a bad number on file must never break the
        # page that triggered the message, and the log shows staff what to fix.
        fields = {
            "status": Delivery.Status.FAILED,
            "last_error": f"{to!r} is not a phone number.",
        }
    return _create(
        channel=Delivery.Channel.SMS,
        to=number or str(to)[:100],
        body=body,
        purpose=purpose[:50],
        related=related,
        dedupe_key=dedupe_key,
        **fields,
    )


@transaction.atomic
def resend(*, delivery: Delivery, by: models.Model | None) -> Delivery | None:
    """Queue a fresh copy of a sent or failed delivery (staff re-send). None if the SMS
    recipient has opted out since."""
    if delivery.is_sensitive:
        raise DeliveryError("One-time codes are never re-sent; ask for a new one instead.")
    if not delivery.can_resend:
        raise DeliveryError("Only sent or failed messages can be re-sent.")
    if delivery.channel == Delivery.Channel.SMS and is_opted_out(delivery.to):
        return None
    return _create(
        channel=delivery.channel,
        to=delivery.to,
        cc=delivery.cc,
        bcc=delivery.bcc,
        subject=delivery.subject,
        body=delivery.body,
        html_body=delivery.html_body,
        attachments=delivery.attachments,
        purpose=delivery.purpose,
        related_type_id=delivery.related_type_id,
        related_id=delivery.related_id,
        resent_from=delivery,
        requested_by=by,
    )


def _create(*, related: models.Model | None = None, **fields) -> Delivery | None:
    dedupe_key = fields.get("dedupe_key")
    if related is not None:
        if related.pk is None:
            raise ValueError("Save the related object before queuing a message about it.")
        fields["related_type"] = ContentType.objects.get_for_model(related)
        fields["related_id"] = related.pk
    if dedupe_key is not None and Delivery.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        # A savepoint, so a duplicate key leaves the caller's transaction usable.
        with transaction.atomic():
            delivery = Delivery.objects.create(next_attempt_at=timezone.now(), **fields)
    except IntegrityError:
        # The unique constraint, not the check above, is what stops two concurrent calls:
        # the second insert waits for the first to commit, then fails here.
        if dedupe_key is not None and Delivery.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    if delivery.status == Delivery.Status.QUEUED:
        transaction.on_commit(partial(enqueue, delivery.pk))
    return delivery


def enqueue(delivery_id: int) -> None:
    """Hand a delivery to the task queue. A broker outage is logged, not raised: the row is
    queued in the database and `requeue_stale_deliveries` enqueues it again later."""
    from .tasks import deliver

    try:
        deliver.delay(delivery_id)
    except (OperationalError, OSError) as exc:
        logger.warning("Delivery %s not enqueued (broker unavailable: %s)", delivery_id, exc)


def _addresses(values: Sequence[str], field: str) -> list[str]:
    if isinstance(values, str):
        raise TypeError(f"'{field}' must be a list of addresses, not a string.")
    cleaned = []
    for value in values:
        value = str(value).strip()
        if not value:
            continue
        name, address = parseaddr(value)
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"{value!r} is not a valid email address ({field}).") from None
        if "," in name:
            # Addresses are stored comma-separated; a comma in a display name would split it.
            value = address
        cleaned.append(value)
    return cleaned
