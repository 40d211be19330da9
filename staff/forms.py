"""Forms for accounts: log-in, profile and staff management."""

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from .models import Role, User
from .validators import validate_no_control_characters


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
    """Names freely; the email address and the phone only with the current password, so a
    session left open cannot be used to take the account over."""

    current_password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change your email address or phone number. A new address "
        "is confirmed by a link sent to it, a new number by a texted code.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["email"].help_text = "You log in with this address."
        for name in ("first_name", "last_name"):
            self.fields[name].validators.append(validate_no_control_characters)
        self.original_email = self.instance.email
        self.original_phone = self.instance.phone
        self.helper = self.build_helper("email", "phone", "current_password")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        taken = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                "This address cannot be used. If it is yours, contact us to merge the accounts."
            )
        return email

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        sensitive = ("email" in cleaned and cleaned["email"] != self.original_email) or (
            "phone" in cleaned and cleaned["phone"] != self.original_phone
        )
        if sensitive:
            password = cleaned.get("current_password") or ""
            if not password:
                self.add_error(
                    "current_password",
                    "Type your current password to change your email address or phone number.",
                )
            elif not self.instance.check_password(password):
                self.add_error("current_password", "That is not your current password.")
        return cleaned


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the text message",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError("Type the 6 digits of the code.")
        return code


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
        for name in ("first_name", "last_name"):
            self.fields[name].validators.append(validate_no_control_characters)
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


# --- Two-factor and account security ---------------------------------------------------------
class OTPCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autofocus": True,
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if any(ord(ch) < 32 for ch in code):
            raise forms.ValidationError("Type the code as it is shown.")
        return code


class ConfirmPasswordForm(forms.Form):
    """Asks for the password again before a change that weakens or moves the account."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class SMSSetupForm(ConfirmPasswordForm):
    number = forms.CharField(
        label="Mobile phone number",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text="We text a code to it now, and at each log-in when you ask for one.",
    )
    field_order = ["number", "password"]

    def clean_number(self) -> str:
        number = normalise_phone(self.cleaned_data["number"])
        if not number:
            raise forms.ValidationError("Enter your mobile phone number.")
        return number


class SecurityPolicyForm(forms.Form):
    require_2fa_for_staff = forms.BooleanField(
        label="Require two-factor authentication for staff and admin accounts",
        required=False,
        help_text="Staff and admins without a second factor must set one up before they can "
        "use the workspace. Client accounts are not affected.",
    )


class UnlockForm(forms.Form):
    kind = forms.ChoiceField(choices=[("account", "Account"), ("address", "Address")])
    value = forms.CharField(max_length=254)


class AuditFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    actor = forms.CharField(label="Who (email)", required=False, max_length=254)
    action = forms.CharField(
        label="Action",
        required=False,
        max_length=64,
        help_text="An exact action (invoice.issue), or a kind: invoice, invoice. or invoice.*",
    )
    object_type = forms.ChoiceField(label="Object type", required=False)
    object_id = forms.CharField(label="Object id", required=False, max_length=64)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        from django.apps import apps

        super().__init__(*args, **kwargs)
        labels = sorted(
            (
                model._meta.label_lower,
                f"{model._meta.app_config.verbose_name}: {model._meta.verbose_name}",
            )
            for model in apps.get_models()
            if not model._meta.label_lower.startswith(("admin.", "contenttypes.", "sessions."))
        )
        self.fields["object_type"].choices = [("", "Any"), *labels]

    def clean_action(self) -> tuple[str, bool]:
        """(text, is_prefix): "invoice", "invoice." and "invoice.*" all mean every invoice
        action; anything with a verb is one exact action."""
        action = "".join(self.cleaned_data["action"].split()).lower().replace("\x00", "")
        if not action:
            return "", False
        kind, dot, verb = action.partition(".")
        if not dot or verb in ("", "*"):
            return f"{kind}.", True
        return action, False

    def clean_object_id(self) -> str:
        return self.cleaned_data["object_id"].replace("\x00", "").strip()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned
