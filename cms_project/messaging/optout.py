"""SMS opt-out: STOP replies (inbound webhook) and unticked consent both end up here."""

from django.db import transaction

from .models import SmsOptOut
from .numbers import to_e164

# Twilio's own opt-out and opt-in keywords (Advanced Opt-Out defaults), matched on the whole
# message, case-insensitively, as carriers do.
STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
START_KEYWORDS = frozenset({"START", "UNSTOP"})


def is_opted_out(number: str) -> bool:
    e164 = to_e164(number) or number
    return SmsOptOut.objects.filter(number=e164, opted_out=True).exists()


@transaction.atomic
def set_opt_out(*, number: str, opted_out: bool, source: str) -> SmsOptOut:
    """Record that a number opted out (or back in). `source` says why: "sms:STOP", "consent"…"""
    e164 = to_e164(number)
    if e164 is None:
        raise ValueError(f"{number!r} is not a phone number.")
    record, _ = SmsOptOut.objects.update_or_create(
        number=e164, defaults={"opted_out": opted_out, "source": source[:50]}
    )
    return record


def keyword_of(body: str) -> str | None:
    """'Stop.' -> 'STOP'; a message that is not exactly one keyword -> None."""
    word = body.strip().strip(".!").strip().upper()
    if word in STOP_KEYWORDS or word in START_KEYWORDS:
        return word
    return None


def apply_inbound_keyword(*, number: str, body: str) -> bool | None:
    """Act on an inbound SMS. Returns True (opted out), False (opted back in) or None (not a
    keyword: nothing to do)."""
    word = keyword_of(body)
    if word is None or to_e164(number) is None:
        return None
    opted_out = word in STOP_KEYWORDS
    set_opt_out(number=number, opted_out=opted_out, source=f"sms:{word}")
    return opted_out
