"""Sending account emails (sign-up, security notices) safely.

For now through Django's send_mail; the delivery log (cms_project.messaging) will take these over
once it exists. Subjects are fixed texts; anything a user typed is only ever put in the body, and
`header_safe` makes sure a value that must go in a header is one clean line.
"""

import re

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header_safe(value: str, *, limit: int = 200) -> str:
    """One line, no control characters, bounded length: fit for a Subject or display name."""
    return _UNSAFE_IN_HEADER.sub(" ", str(value)).strip()[:limit]


def send_account_email(*, to: str, template: str, context: dict) -> int:
    """Render `<template>_subject.txt` and `<template>_body.txt` and send them to one address."""
    context = {"company_name": settings.COMPANY["name"], **context}
    subject = header_safe(render_to_string(f"{template}_subject.txt", context))
    body = render_to_string(f"{template}_body.txt", context)
    return send_mail(subject, body, None, [to])
