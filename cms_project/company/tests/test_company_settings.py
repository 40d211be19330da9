from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from cms_project.company.models import CompanySettings, get_company

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Data Plus Fiber LLC",
    "address": "100 Main Street\nSpringfield, IL 62701",
    "tax_id": "12-3456789",
    "email": "billing@dataplusfiber.example",
    "phone": "",
    "default_tax_rate": "8.25",
    "currency": "usd",
    "payment_terms_days": "30",
    "invoice_prefix": "DPF",
    "credit_note_prefix": "DPFC",
    "payment_instructions": "ACH to First Bank 0001",
    "issue_invoices_immediately": "on",
    "reminder_schedule": "14, -3, 0, 7",
    "suspend_after_days": "30",
}


@override_settings(DEFAULT_TAX_RATE=Decimal("7.50"), CURRENCY="EUR")
def test_the_settings_record_starts_from_the_environment_defaults():
    company = get_company()
    assert company.default_tax_rate == Decimal("7.50")
    assert company.currency == "EUR"
    assert company.reminder_schedule == [-3, 0, 7, 14]
    assert get_company().pk == company.pk == 1
    assert CompanySettings.objects.count() == 1


def test_admin_saves_company_settings(login, admin_user):
    response = login(admin_user).post(reverse("company:settings"), VALID)
    assert response.status_code == 302
    company = get_company()
    assert company.name == "Data Plus Fiber LLC"
    assert company.default_tax_rate == Decimal("8.25")
    assert company.currency == "USD"
    assert company.reminder_schedule == [-3, 0, 7, 14]
    assert company.suspend_after_days == 30


def test_staff_cannot_change_company_settings(login, staff_user):
    response = login(staff_user).post(reverse("company:settings"), VALID)
    assert response.status_code == 403
    assert get_company().name == "Data Plus Fiber"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("default_tax_rate", "101", "less than or equal to 100"),
        ("default_tax_rate", "-1", "greater than or equal to 0"),
        ("default_tax_rate", "8.255", "no more than 2 decimal places"),
        ("default_tax_rate", "abc", "Enter a number."),
        ("currency", "DOLLARS", "at most 3 characters"),
        ("currency", "U1D", "ISO 4217"),
        ("payment_terms_days", "-5", "greater than or equal to 0"),
        ("payment_terms_days", "9999", "less than or equal to 365"),
        ("invoice_prefix", "inv-", "Capital letters and digits only."),
        ("reminder_schedule", "soon, later", "whole numbers of days"),
        ("reminder_schedule", "0, 0", "only once"),
        ("reminder_schedule", "1000", "between -60 and 365"),
    ],
)
def test_bad_settings_are_refused_next_to_the_field(login, admin_user, field, value, message):
    response = login(admin_user).post(reverse("company:settings"), {**VALID, field: value})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert get_company().name == "Data Plus Fiber"


def test_a_logo_that_is_not_an_image_is_refused(login, admin_user, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = login(admin_user).post(reverse("company:settings"), {**VALID, "logo": fake})
    assert response.status_code == 200
    assert "logo" in response.context["form"].errors


def test_a_settings_change_is_audited_with_before_and_after(login, admin_user):
    from staff.models import AuditEntry

    get_company()  # the record as the environment defaults make it
    login(admin_user).post(reverse("company:settings"), VALID)
    entry = AuditEntry.objects.get(action="company.settings_change")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        admin_user,
        "company.companysettings",
        "1",
    )
    assert entry.changes["name"] == ["Data Plus Fiber", "Data Plus Fiber LLC"]
    assert entry.changes["default_tax_rate"][1] == "8.25"
    assert entry.changes["suspend_after_days"] == [None, 30]
    login(admin_user).post(reverse("company:settings"), VALID)  # saved again, unchanged
    assert AuditEntry.objects.filter(action="company.settings_change").count() == 1
