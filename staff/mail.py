"""Account emails (password links, sign-up, email change, security notices), sent safely.

Every one goes through the delivery log (`cms_project.messaging.sending.queue_email`): a
Delivery row created in the caller's transaction, sent by a task after commit, retried through
SMTP outages, visible to staff on the Messages page. Emails that carry a secret (a
password-reset or verification link) use a purpose listed in MESSAGING_SENSITIVE_PURPOSES, so
the log shows "hidden" instead of their text and never re-sends them.

Subjects are fixed texts; anything a user typed is only ever put in the body, and
`header_safe` makes sure a value that must go in a header is one clean line.
"""

import re

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.template.loader import render_to_string

# Delivery purposes. The first five carry secrets (links that act on the account).
PURPOSE_PASSWORD_RESET = "password-reset"  # "Forgot your password?"
PURPOSE_PASSWORD_LINK = "password-link"  # an admin sends a member a link to set a password
PURPOSE_VERIFICATION = "verification"  # sign-up: confirm your address
PURPOSE_SIGNUP_EXISTING = "signup-existing"  # someone tried to sign up with your address
PURPOSE_EMAIL_CHANGE = "email-change"  # confirm your new address
PURPOSE_SECURITY_NOTICE = "security-notice"  # your email/phone was changed (no secret)

_UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def header_safe(value: str, *, limit: int = 200) -> str:
    """One line, no control characters, bounded length: fit for a Subject or display name."""
    return _UNSAFE_IN_HEADER.sub(" ", str(value)).strip()[:limit]


def send_account_email(*, to: str, template: str, context: dict, purpose: str, related=None):
    """Render `<template>_subject.txt` and `<template>_body.txt` and queue them to one
    address. Call it inside the transaction of the change it is about: the message leaves
    only if that commits. Returns the Delivery."""
    from cms_project.messaging.sending import queue_email

    context = {"company_name": settings.COMPANY["name"], **context}
    subject = header_safe(render_to_string(f"{template}_subject.txt", context))
    body = render_to_string(f"{template}_body.txt", context)
    return queue_email(to=[to], subject=subject, body=body, purpose=purpose, related=related)


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's password-reset form, its email sent through the delivery log (hidden there:
    the link sets a new password). `purpose` tells a self-service reset from an admin's link."""

    purpose = PURPOSE_PASSWORD_RESET

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from cms_project.messaging.sending import queue_email

        subject = header_safe(render_to_string(subject_template_name, context))
        body = render_to_string(email_template_name, context)
        queue_email(
            to=[to_email],
            subject=subject,
            body=body,
            purpose=self.purpose,
            related=context.get("user"),
        )


class PasswordLinkForm(QueuedPasswordResetForm):
    """The same email, sent by an admin to a team member (a new one, or on request)."""

    purpose = PURPOSE_PASSWORD_LINK
