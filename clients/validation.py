"""Normalising and checking the values people type: MAC addresses, serial numbers, phones.

Shared by the forms, the CSV import and the model validators, so a value accepted in one place
is accepted (and stored the same way) everywhere.
"""

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

MAC_MESSAGE = "Enter a MAC address as six pairs of hex digits, e.g. 3C:84:6A:1F:00:2B."
PHONE_MESSAGE = "Enter a valid phone number, e.g. (217) 555-0142 or +1 217 555 0142."

# 3C:84:6A:1F:00:2B, 3c-84-6a-1f-00-2b, 3c84.6a1f.002b (Cisco) or 3C846A1F002B.
_MAC_FORMS = (
    re.compile(
        r"^([0-9A-F]{2})([:-])([0-9A-F]{2})\2([0-9A-F]{2})\2([0-9A-F]{2})\2([0-9A-F]{2})\2([0-9A-F]{2})$"
    ),
    re.compile(r"^([0-9A-F]{4})\.([0-9A-F]{4})\.([0-9A-F]{4})$"),
    re.compile(r"^([0-9A-F]{12})$"),
)
_CANONICAL_MAC = re.compile(r"^([0-9A-F]{2}:){5}[0-9A-F]{2}$")


def normalise_mac(raw: str) -> str:
    """A MAC address in any common notation → `3C:84:6A:1F:00:2B`; '' stays ''."""
    value = (raw or "").strip().upper()
    if not value:
        return ""
    for form in _MAC_FORMS:
        if form.match(value):
            digits = re.sub(r"[^0-9A-F]", "", value)
            return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    raise ValidationError(MAC_MESSAGE, code="invalid_mac")


def validate_mac(value: str) -> None:
    """Model-level check: what is stored is the canonical form (or empty)."""
    if value and not _CANONICAL_MAC.match(value):
        raise ValidationError(MAC_MESSAGE, code="invalid_mac")


_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9._/-]*$")
SERIAL_MESSAGE = "A serial number uses letters, digits and . _ / - only."


def normalise_serial(raw: str) -> str:
    """Serial numbers are compared and stored upper-case without surrounding spaces, so
    `zteg1a2b` and `ZTEG1A2B ` are recognised as the same device."""
    value = re.sub(r"\s+", "", raw or "").upper()
    if value and not _SERIAL.match(value):
        raise ValidationError(SERIAL_MESSAGE, code="invalid_serial")
    return value


def normalise_phone(raw: str) -> str:
    """A phone number typed in any common format → E.164 ('' stays '')."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_display(value) -> str:
    """National format for numbers of the company's own region, international otherwise."""
    if isinstance(value, phonenumbers.PhoneNumber) and value.national_number:
        return _display(value)  # parsed already (a PhoneNumberField)
    return _display_of(str(value or ""))


@lru_cache(maxsize=8192)
def _display_of(raw: str) -> str:
    # A pure function of the stored text, and ~80 µs of parsing and formatting: lists of
    # clients show the same numbers again and again.
    if not raw:
        return ""
    try:
        return _display(phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION))
    except phonenumbers.NumberParseException:
        return raw


def _display(number: phonenumbers.PhoneNumber) -> str:
    if phonenumbers.region_code_for_number(number) == settings.PHONENUMBER_DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def collapse_spaces(value: str) -> str:
    """`12  Oak   St ` → `12 Oak St`: addresses typed twice with different spacing are one."""
    return " ".join((value or "").split())
