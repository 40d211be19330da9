"""Changing the company settings: one audited function, used by the admins' settings page."""

from django.db import transaction
from django.http import HttpRequest

from staff.audit import diff, record, snapshot

from .models import CompanySettings

# Everything an admin edits on the settings page, before and after, in the audit log.
AUDIT_FIELDS = [
    "name",
    "address",
    "tax_id",
    "email",
    "phone",
    "logo",
    "default_tax_rate",
    "currency",
    "payment_terms_days",
    "invoice_prefix",
    "credit_note_prefix",
    "payment_instructions",
    "issue_invoices_immediately",
    "reminder_schedule",
    "suspend_after_days",
]


@transaction.atomic
def save_company_settings(*, form, by=None, request: HttpRequest | None = None) -> CompanySettings:
    """Save a valid CompanySettingsForm and record what changed (`company.settings_change`).
    The saved row is locked and read first, so the "before" values are what was stored."""
    stored = CompanySettings.objects.select_for_update().filter(pk=form.instance.pk).first()
    before = snapshot(stored, AUDIT_FIELDS) if stored is not None else dict.fromkeys(AUDIT_FIELDS)
    company = form.save()
    changes = diff(before, company, AUDIT_FIELDS)
    if changes:
        record(
            actor=by,
            action="company.settings_change",
            obj=company,
            changes=changes,
            request=request,
        )
    return company
