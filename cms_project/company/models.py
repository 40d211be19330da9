"""The single company-settings record. Its first values come from the environment
(settings.COMPANY, CURRENCY, DEFAULT_TAX_RATE); admins change them in the browser. Invoices copy
what they show from here at the moment they are issued, so later edits never change them."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models


def default_reminder_schedule() -> list[int]:
    # Days relative to the due date: 3 days before, on the day, 7 and 14 days after.
    return [-3, 0, 7, 14]


class CompanySettings(models.Model):
    name = models.CharField("company name", max_length=200)
    address = models.TextField(help_text="As printed on invoices; one line per row.")
    tax_id = models.CharField("tax ID", max_length=50, blank=True)
    email = models.EmailField("billing email", blank=True)
    phone = models.CharField(max_length=32, blank=True)
    logo = models.ImageField(
        upload_to="company/", blank=True, help_text="PNG or JPEG, shown on invoices."
    )
    default_tax_rate = models.DecimalField(
        "default tax rate (%)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    currency = models.CharField(
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. USD.")],
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms (days)", validators=[MaxValueValidator(365)]
    )
    invoice_prefix = models.CharField(
        max_length=10,
        default="INV",
        validators=[RegexValidator(r"^[A-Z0-9]{1,10}$", "Capital letters and digits only.")],
    )
    credit_note_prefix = models.CharField(
        max_length=10,
        default="CN",
        validators=[RegexValidator(r"^[A-Z0-9]{1,10}$", "Capital letters and digits only.")],
    )
    payment_instructions = models.TextField(
        blank=True, help_text="Bank details or how to pay, printed on every invoice."
    )
    issue_invoices_immediately = models.BooleanField(
        default=True,
        help_text="Billing runs issue invoices at once; untick to leave drafts for review.",
    )
    reminder_schedule = models.JSONField(
        default=default_reminder_schedule,
        help_text="Days relative to the due date when reminders go out (negative = before).",
    )
    # Per step of the schedule (key: the day as text, e.g. "-3"): {"channels": ["email", "sms"],
    # "subject": ..., "body": ..., "sms": ...}. A step with no entry uses the built-in texts of
    # invoices.reminders and both channels (each still by the client's preference).
    reminder_templates = models.JSONField(default=dict, blank=True)
    suspend_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Suspend a client's services this many days after due; blank = never.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "company settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="company_settings_singleton"),
        ]

    def __str__(self) -> str:
        return self.name


def get_company() -> CompanySettings:
    """The company settings record, created from the environment defaults on first use."""
    company, _ = CompanySettings.objects.get_or_create(
        pk=1,
        defaults={
            "name": settings.COMPANY["name"],
            "address": settings.COMPANY["address"],
            "tax_id": settings.COMPANY["tax_id"],
            "default_tax_rate": settings.DEFAULT_TAX_RATE,
            "currency": settings.CURRENCY,
            "payment_terms_days": settings.COMPANY["payment_terms_days"],
        },
    )
    return company
