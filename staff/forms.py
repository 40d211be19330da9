"""Forms for accounts: log-in, profile and staff management."""

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from .models import Role, User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account. "
        "Passwords are case-sensitive.",
    }


def normalise_phone(raw: str) -> str:
    """Validate a phone number typed in any common format and return it in E.164, or ''."""
    raw = raw.strip()
    if not raw:
        return ""
    from django.conf import settings

    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            "Enter a valid phone number, e.g. (217) 555-0142 or +1 217 555 0142."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NameRowsMixin:
    """Shared crispy layout: first and last name side by side."""

    def build_helper(self, *fields: str) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        helper.layout = Layout(
            Row(
                Column("first_name", css_class="col-md-6"),
                Column("last_name", css_class="col-md-6"),
            ),
            *fields,
        )
        return helper


class ProfileForm(NameRowsMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.helper = self.build_helper("phone")

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])


class TeamMemberForm(NameRowsMixin, forms.ModelForm):
    """Create or edit an admin or staff account (admins only)."""

    role = forms.ChoiceField(
        choices=[(Role.STAFF, "Staff"), (Role.ADMIN, "Admin")],
        help_text="Admins also manage staff accounts and company settings.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "role", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.helper = self.build_helper("email", "role", "phone")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        taken = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])


class NewTeamMemberForm(TeamMemberForm):
    """Creating an account: either set a first password now or email a link to set one."""

    password1 = forms.CharField(
        label="Initial password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave both password fields blank to email the new member a link to set one.",
    )
    password2 = forms.CharField(
        label="Initial password (again)",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = self.build_helper(
            "email", "role", "phone", Row(Column("password1"), Column("password2"))
        )

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 or p2:
            if p1 != p2:
                self.add_error("password2", "The two passwords do not match.")
            else:
                candidate = User(
                    email=cleaned.get("email", ""),
                    first_name=cleaned.get("first_name", ""),
                    last_name=cleaned.get("last_name", ""),
                )
                try:
                    password_validation.validate_password(p1, candidate)
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return cleaned


class TeamSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    role = forms.ChoiceField(
        required=False,
        choices=[("", "Any role"), (Role.STAFF, "Staff"), (Role.ADMIN, "Admin")],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Active and inactive"), ("active", "Active"), ("inactive", "Inactive")],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
