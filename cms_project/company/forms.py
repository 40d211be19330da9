from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms

from .models import CompanySettings


class ReminderScheduleField(forms.CharField):
    """Days relative to the due date, typed as "-3, 0, 7, 14"."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(day) for day in value)
        return value

    def to_python(self, value) -> list[int]:
        text = super().to_python(value)
        if not text.strip():
            return []
        try:
            days = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(
                "Enter whole numbers of days separated by commas, e.g. -3, 0, 7, 14."
            ) from exc
        if any(day < -60 or day > 365 for day in days):
            raise forms.ValidationError("Each step must be between -60 and 365 days.")
        if len(set(days)) != len(days):
            raise forms.ValidationError("Each day may appear only once.")
        return sorted(days)


class CompanySettingsForm(forms.ModelForm):
    reminder_schedule = ReminderScheduleField(
        required=False,
        max_length=200,
        help_text="Days relative to the due date, negative = before; blank = no reminders.",
    )

    class Meta:
        model = CompanySettings
        fields = [
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
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "payment_instructions": forms.Textarea(attrs={"rows": 3}),
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Company",
                Row(Column("name"), Column("tax_id")),
                "address",
                Row(Column("email"), Column("phone")),
                "logo",
            ),
            Fieldset(
                "Billing",
                Row(Column("currency"), Column("default_tax_rate"), Column("payment_terms_days")),
                Row(Column("invoice_prefix"), Column("credit_note_prefix")),
                "payment_instructions",
                "issue_invoices_immediately",
            ),
            Fieldset("Collections", "reminder_schedule", "suspend_after_days"),
        )

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "image") and logo.image.format not in ("PNG", "JPEG"):
            raise forms.ValidationError("Upload a PNG or JPEG image.")
        if logo and getattr(logo, "size", 0) > 2 * 1024 * 1024:
            raise forms.ValidationError("The logo must be smaller than 2 MB.")
        return logo


class ReminderStepForm(forms.Form):
    """The channels and texts of one step of the reminder schedule (prefix: the day)."""

    channels = forms.MultipleChoiceField(
        choices=[("email", "Email"), ("sms", "SMS (only to clients who consented)")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose email and/or SMS."},
    )
    subject = forms.CharField(max_length=200, label="Email subject")
    body = forms.CharField(
        max_length=5000, label="Email text", widget=forms.Textarea(attrs={"rows": 6})
    )
    sms = forms.CharField(
        max_length=480, label="SMS text", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, step: int, **kwargs):
        super().__init__(*args, prefix=f"step{step}", **kwargs)
        self.step = step
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def _clean_text(self, name: str) -> str:
        from .reminder_templates import template_errors

        text = self.cleaned_data[name].replace("\x00", "").strip()
        errors = template_errors(text)
        if errors:
            raise forms.ValidationError(errors)
        return text

    def clean_subject(self) -> str:
        return " ".join(self._clean_text("subject").split())

    def clean_body(self) -> str:
        return self._clean_text("body")

    def clean_sms(self) -> str:
        return self._clean_text("sms")

    def clean_channels(self) -> list[str]:
        channels = self.cleaned_data["channels"]
        if not channels:
            raise forms.ValidationError("Choose at least one channel.")
        return channels

    @property
    def title(self) -> str:
        if self.step == 0:
            return "On the due date"
        days = abs(self.step)
        return f"{days} day{'s' if days != 1 else ''} {'before' if self.step < 0 else 'after'} due"


def reminder_step_forms(company: CompanySettings, data=None) -> list[ReminderStepForm]:
    from .reminder_templates import step_template

    forms_ = []
    for step in sorted(company.reminder_schedule or []):
        template = step_template(company, step)
        initial = {
            "channels": list(template.channels),
            "subject": template.subject,
            "body": template.body,
            "sms": template.sms,
        }
        forms_.append(ReminderStepForm(data, step=step, initial=initial))
    return forms_
