"""Validators for text people type that ends up in emails, PDFs and other people's screens."""

import unicodedata

from django.core.exceptions import ValidationError


def validate_no_control_characters(value: str) -> None:
    """Names and other one-line fields: no line breaks, tabs or invisible control characters.
    A name is printed in email bodies, on invoices and in CSV exports; a line break in it could
    forge an email header or a CSV row."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in str(value)):
        raise ValidationError(
            "Use letters, numbers and punctuation only (no line breaks or control characters).",
            code="control_characters",
        )
