"""The reminder schedule's texts: per step (days relative to the due date) the channels and
the email subject/body and SMS text, with placeholders such as {invoice_number}.

Stored in CompanySettings.reminder_templates, keyed by the day as text ("-3"); a step with no
entry uses the built-in texts below. invoices.reminders renders and sends them.
"""

import re
from dataclasses import dataclass

from .models import CompanySettings

CHANNELS = ("email", "sms")
PLACEHOLDERS = {
    "client_name": "the client's name",
    "invoice_number": "the invoice number",
    "total": "the invoice total",
    "balance": "what is left to pay",
    "due_date": "the due date",
    "days": "days before or after the due date",
    "pay_url": "the link to the invoice in the portal",
    "company_name": "your company name",
}
PLACEHOLDER_PATTERN = re.compile(r"\{([^{}]*)\}")

DEFAULT_BEFORE = (
    "Invoice {invoice_number} is due on {due_date}",
    "Hello {client_name},\n\nA friendly reminder: invoice {invoice_number} of {total} is due on "
    "{due_date}. {balance} is left to pay.\n\nPay or view it here: {pay_url}\n\n"
    "Thank you,\n{company_name}",
    "{company_name}: invoice {invoice_number} ({balance}) is due on {due_date}. {pay_url}",
)
DEFAULT_ON_DAY = (
    "Invoice {invoice_number} is due today",
    "Hello {client_name},\n\nInvoice {invoice_number} is due today, {due_date}. "
    "{balance} is left to pay.\n\nPay or view it here: {pay_url}\n\nThank you,\n{company_name}",
    "{company_name}: invoice {invoice_number} ({balance}) is due today. {pay_url}",
)
DEFAULT_AFTER = (
    "Invoice {invoice_number} is overdue",
    "Hello {client_name},\n\nInvoice {invoice_number} was due on {due_date}, {days} days ago, "
    "and {balance} is still unpaid. Please pay it as soon as you can, or contact us if "
    "something is wrong.\n\nPay or view it here: {pay_url}\n\nThank you,\n{company_name}",
    "{company_name}: invoice {invoice_number} is overdue, {balance} unpaid. {pay_url}",
)


@dataclass(frozen=True)
class StepTemplate:
    channels: tuple[str, ...]
    subject: str
    body: str
    sms: str


def default_template(step: int) -> StepTemplate:
    subject, body, sms = (
        DEFAULT_BEFORE if step < 0 else DEFAULT_ON_DAY if step == 0 else DEFAULT_AFTER
    )
    return StepTemplate(channels=CHANNELS, subject=subject, body=body, sms=sms)


def step_template(company: CompanySettings, step: int) -> StepTemplate:
    """The step's template from the settings, or the built-in one; blank texts fall back."""
    default = default_template(step)
    saved = (company.reminder_templates or {}).get(str(step))
    if not isinstance(saved, dict):
        return default
    channels = tuple(c for c in saved.get("channels", CHANNELS) if c in CHANNELS)
    return StepTemplate(
        channels=channels,
        subject=str(saved.get("subject") or "").strip() or default.subject,
        body=str(saved.get("body") or "").strip() or default.body,
        sms=str(saved.get("sms") or "").strip() or default.sms,
    )


def template_errors(text: str) -> list[str]:
    """What is wrong with a template text: unknown or malformed placeholders."""
    errors = []
    for name in PLACEHOLDER_PATTERN.findall(text):
        if name not in PLACEHOLDERS:
            errors.append(
                f"Unknown placeholder {{{name[:40]}}}; use "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                + "."
            )
    stripped = PLACEHOLDER_PATTERN.sub("", text)
    if "{" in stripped or "}" in stripped:
        errors.append("A brace is not closed: write placeholders as {invoice_number}.")
    return errors
