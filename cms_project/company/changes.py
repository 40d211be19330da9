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


@transaction.atomic
def save_reminder_templates(*, forms, by=None, request: HttpRequest | None = None) -> None:
    """Save the texts and channels of every step (valid ReminderStepForms), audited."""
    company = CompanySettings.objects.select_for_update().get(pk=1)
    before = company.reminder_templates or {}
    after = {
        str(form.step): {
            "channels": form.cleaned_data["channels"],
            "subject": form.cleaned_data["subject"],
            "body": form.cleaned_data["body"],
            "sms": form.cleaned_data["sms"],
        }
        for form in forms
    }
    if after == {k: v for k, v in before.items() if k in after}:
        return
    company.reminder_templates = {**before, **after}
    company.save(update_fields=["reminder_templates", "updated_at"])
    record(
        actor=by,
        action="company.settings_change",
        obj=company,
        changes={"reminder_templates": [before, company.reminder_templates]},
        request=request,
    )
