"""Phone numbers as E.164 strings, the one form the opt-out list and Twilio agree on."""

import phonenumbers
from django.conf import settings


def to_e164(number: str) -> str | None:
    """'+1 (555) 123-4567' or '555 123 4567' (default region) -> '+15551234567'; None if it is
    not a possible phone number. "Possible" (right length) rather than "valid": the provider,
    not a phone-number table that ages, has the last word on whether a number exists."""
    try:
        parsed = phonenumbers.parse(str(number).strip(), settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
