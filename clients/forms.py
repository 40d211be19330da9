"""Forms of the clients app. Every bad value is answered next to its field, never with a 500."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from staff.models import User

from .crm import INTERACTION_FIELDS
from .equipment import STATUSES_AT_LOCATION, STATUSES_IN_STOCK, find_stock_equipment
from .models import Client, Equipment, FollowUpTask, Interaction, ServiceLocation
from .models import workspace_user_choices as _workspace_q
from .search import SORTS, ClientFilters
from .validation import PHONE_MESSAGE, collapse_spaces, normalise_mac, normalise_serial

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
postal_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$", "Enter a postal code such as 62701 or 62701-1234."
)


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*layout)
    return helper


def _status_choices(statuses) -> list[tuple[str, str]]:
    return [(s.value, s.label) for s in statuses]


class ContactDetailsMixin:
    """Contact fields shared by the staff client form and the portal form."""

    def setup_contact_fields(self) -> None:
        self.fields["phone"].error_messages["invalid"] = PHONE_MESSAGE
        self.fields["phone"].help_text = "Any format; stored internationally (E.164)."
        for name in ("name", "company_name", "billing_street", "billing_city"):
            self.fields[name].strip = True

    def clean_name(self) -> str:
        name = collapse_spaces(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Enter the contact name.")
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def clean_billing_street(self) -> str:
        return collapse_spaces(self.cleaned_data["billing_street"])

    def clean_billing_postal_code(self) -> str:
        value = self.cleaned_data["billing_postal_code"].strip()
        if value:
            postal_code_validator(value)
        return value


class ClientForm(ContactDetailsMixin, forms.ModelForm):
    """Create or edit a client in the staff workspace. The account number is given out by
    the system and never typed."""

    phone = PhoneNumberField(required=False, label="Phone")

    class Meta:
        model = Client
        fields = [
            "name",
            "company_name",
            "segment",
            "status",
            "email",
            "phone",
            "billing_street",
            "billing_city",
            "billing_postal_code",
            "signup_date",
            "consent_email_marketing",
            "consent_sms",
            "notes",
        ]
        widgets = {"signup_date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"consent_email_marketing": "Agrees to marketing emails"}
        help_texts = {
            "company_name": "For business clients; shown instead of the contact name.",
            "consent_sms": "Agrees to receive service and billing notices by SMS.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_contact_fields()
        self.fields["signup_date"].required = False
        self.fields["signup_date"].help_text = "Today if left blank."
        self.helper = _helper(
            Fieldset(
                "Who",
                Row(
                    Column("name", css_class="col-md-6"),
                    Column("company_name", css_class="col-md-6"),
                ),
                Row(
                    Column("segment", css_class="col-md-4"),
                    Column("status", css_class="col-md-4"),
                    Column("signup_date", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Contact",
                Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
                "billing_street",
                Row(
                    Column("billing_city", css_class="col-md-8"),
                    Column("billing_postal_code", css_class="col-md-4"),
                ),
            ),
            Fieldset("Consents", "consent_email_marketing", "consent_sms"),
            "notes",
        )


class PortalClientForm(ContactDetailsMixin, forms.ModelForm):
    """What a client may change about themselves: contact details and consents — never the
    status, the segment or the account number."""

    phone = PhoneNumberField(required=False, label="Phone")

    class Meta:
        model = Client
        fields = [
            "name",
            "company_name",
            "email",
            "phone",
            "billing_street",
            "billing_city",
            "billing_postal_code",
            "consent_email_marketing",
            "consent_sms",
        ]
        labels = {
            "name": "Your name",
            "email": "Contact email",
            "consent_email_marketing": "Send me news and offers by email",
            "consent_sms": "Send me service and billing notices by SMS",
        }
        help_texts = {
            "email": "Where we write to you about your account. Your log-in email does not change.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_contact_fields()
        self.helper = _helper(
            Row(Column("name", css_class="col-md-6"), Column("company_name", css_class="col-md-6")),
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            "billing_street",
            Row(
                Column("billing_city", css_class="col-md-8"),
                Column("billing_postal_code", css_class="col-md-4"),
            ),
            Fieldset("Consents", "consent_email_marketing", "consent_sms"),
        )


class ClientSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Client.Status.choices]
    )
    segment = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *Client.Segment.choices]
    )
    city = forms.CharField(label="City", required=False, max_length=100)
    overdue = forms.BooleanField(label="Has overdue balance", required=False)
    sort = forms.ChoiceField(
        label="Sort by", required=False, choices=[(k, label) for k, (label, _) in SORTS.items()]
    )

    def filters(self) -> ClientFilters:
        if not self.is_valid():
            return ClientFilters()
        data = self.cleaned_data
        return ClientFilters(
            q=data["q"],
            status=data["status"],
            segment=data["segment"],
            city=data["city"],
            overdue=data["overdue"],
            sort=data["sort"] or "name",
        )


class LocationForm(forms.ModelForm):
    latitude = forms.DecimalField(
        required=False,
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text="Optional, e.g. 39.781721",
    )
    longitude = forms.DecimalField(
        required=False,
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text="Optional, e.g. -89.650148",
    )

    class Meta:
        model = ServiceLocation
        fields = [
            "label",
            "street",
            "city",
            "postal_code",
            "status",
            "install_date",
            "latitude",
            "longitude",
        ]
        widgets = {"install_date": DATE_INPUT}

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.helper = _helper(
            Row(
                Column("label", css_class="col-md-6"),
                Column("status", css_class="col-md-3"),
                Column("install_date", css_class="col-md-3"),
            ),
            "street",
            Row(Column("city", css_class="col-md-8"), Column("postal_code", css_class="col-md-4")),
            Row(
                Column("latitude", css_class="col-md-6"), Column("longitude", css_class="col-md-6")
            ),
        )

    def clean_label(self) -> str:
        return collapse_spaces(self.cleaned_data["label"])

    def clean_street(self) -> str:
        return collapse_spaces(self.cleaned_data["street"])

    def clean_city(self) -> str:
        return collapse_spaces(self.cleaned_data["city"])

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip()
        postal_code_validator(value)
        return value

    def clean(self):
        cleaned = super().clean()
        street, city, postal = (cleaned.get(k) for k in ("street", "city", "postal_code"))
        if street and city and postal:
            same = self.client.locations.filter(
                street__iexact=street, city__iexact=city, postal_code__iexact=postal
            ).exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error(
                    "street", f"{self.client.display_name} already has a location at this address."
                )
        return cleaned

    def save(self, commit: bool = True) -> ServiceLocation:
        self.instance.client = self.client
        return super().save(commit=commit)


class PortalLocationForm(LocationForm):
    """A client adds an address of their own to have service there: where it is, nothing
    else (status and install date are staff's; the location starts as planned)."""

    class Meta(LocationForm.Meta):
        fields = ["label", "street", "city", "postal_code"]

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, client=client, **kwargs)
        del self.fields["latitude"], self.fields["longitude"]
        self.fields["label"].help_text = "A name for this address, e.g. Home or Shop."
        self.helper = _helper(
            "label",
            "street",
            Row(Column("city", css_class="col-md-8"), Column("postal_code", css_class="col-md-4")),
        )

    def save(self, commit: bool = True) -> ServiceLocation:
        self.instance.status = ServiceLocation.Status.PLANNED  # not connected until staff say so
        return super().save(commit=commit)


class EquipmentDetailsForm(forms.ModelForm):
    """What a device is. Where it is and its status change through moves (see MoveForm)."""

    class Meta:
        model = Equipment
        fields = ["kind", "make_model", "serial_number", "mac_address", "ownership", "install_date"]
        widgets = {"install_date": DATE_INPUT}
        help_texts = {
            "serial_number": "Unique across the company. Letters and digits; stored upper-case.",
            "mac_address": "Optional, e.g. 3C:84:6A:1F:00:2B (any common notation).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            Row(Column("kind", css_class="col-md-4"), Column("make_model", css_class="col-md-8")),
            Row(
                Column("serial_number", css_class="col-md-6"),
                Column("mac_address", css_class="col-md-6"),
            ),
            Row(
                Column("ownership", css_class="col-md-6"),
                Column("install_date", css_class="col-md-6"),
            ),
        )

    def clean_serial_number(self) -> str:
        serial = normalise_serial(self.cleaned_data["serial_number"])
        if not serial:
            raise ValidationError("Enter the serial number.")
        clash = (
            Equipment.objects.filter(serial_number__iexact=serial)
            .exclude(pk=self.instance.pk)
            .select_related("location__client")
            .first()
        )
        if clash:
            where = (
                f"at {clash.location.client.account_number} ({clash.location.label})"
                if clash.location
                else "in stock"
            )
            raise ValidationError(f"Serial number {serial} is already recorded: {clash} {where}.")
        return serial

    def clean_mac_address(self) -> str:
        return normalise_mac(self.cleaned_data["mac_address"])

    def validate_unique(self):
        # The serial clash is explained in clean_serial_number, with where the device is.
        exclude = self._get_validation_exclusions()
        exclude.add("serial_number")
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)


class NewEquipmentForm(EquipmentDetailsForm):
    """A new device, at a location (installed or faulty) or into stock."""

    class Meta(EquipmentDetailsForm.Meta):
        fields = [*EquipmentDetailsForm.Meta.fields, "status"]

    def __init__(self, *args, location: ServiceLocation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        statuses = STATUSES_AT_LOCATION if location else STATUSES_IN_STOCK
        self.fields["status"].choices = _status_choices(statuses)
        self.fields["status"].initial = statuses[0]
        self.helper.layout.append("status")
        self.fields["install_date"].help_text = "Today if left blank." if location else ""

    def save(self, commit: bool = True) -> Equipment:
        self.instance.location = self.location
        return super().save(commit=commit)


STOCK = "stock"


class MoveForm(forms.Form):
    """Move a device to another location of the same client, or back to stock."""

    destination = forms.ChoiceField(label="Move to")
    status = forms.ChoiceField(choices=Equipment.Status.choices)
    note = forms.CharField(
        max_length=200, required=False, help_text="Why, e.g. swap for a faulty unit."
    )

    def __init__(self, *args, equipment: Equipment, **kwargs):
        super().__init__(*args, **kwargs)
        self.equipment = equipment
        self.locations = {}
        if equipment.location_id:
            self.locations = {
                str(loc.pk): loc for loc in equipment.location.client.locations.order_by("label")
            }
        self.fields["destination"].choices = [
            (STOCK, "Back to stock (warehouse)"),
            *[(pk, f"{loc.label}: {loc.street}, {loc.city}") for pk, loc in self.locations.items()],
        ]
        # The usual move of an installed device is back to stock as returned.
        self.fields["destination"].initial = STOCK
        self.fields["status"].initial = (
            Equipment.Status.RETURNED if equipment.location_id else equipment.status
        )
        self.helper = _helper("destination", "status", "note")

    def clean(self):
        cleaned = super().clean()
        destination, status = cleaned.get("destination"), cleaned.get("status")
        if destination and status:
            location = self.locations.get(destination)
            allowed = STATUSES_AT_LOCATION if location else STATUSES_IN_STOCK
            if status not in allowed:
                names = [str(Equipment.Status(s).label).lower() for s in allowed]
                names = ", ".join(names[:-1]) + " or " + names[-1]
                where = "at a location" if location else "in stock"
                self.add_error("status", f"Equipment {where} is {names}.")
            cleaned["location"] = location
        return cleaned


class InstallFromStockForm(forms.Form):
    serial_number = forms.CharField(label="Serial number of a device in stock", max_length=64)

    def clean_serial_number(self) -> Equipment:
        serial = normalise_serial(self.cleaned_data["serial_number"])
        device = find_stock_equipment(serial)
        if device is None:
            raise ValidationError(f"No working device with serial number {serial} is in stock.")
        return device


class InteractionForm(forms.ModelForm):
    follow_up_due = forms.DateField(
        label="Follow-up task due",
        required=False,
        widget=DATE_INPUT,
        help_text="Give a date to add the next action as a task for you.",
    )

    class Meta:
        model = Interaction
        fields = INTERACTION_FIELDS
        widgets = {"occurred_at": DATETIME_INPUT, "notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        if editing:
            # A follow-up task is made when logging; an edit corrects the record only.
            del self.fields["follow_up_due"]
        else:
            self.fields["occurred_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["duration_minutes"].validators.append(MaxValueValidator(24 * 60))
        self.helper = _helper(
            Row(
                Column("kind", css_class="col-md-4"),
                Column("occurred_at", css_class="col-md-4"),
                Column("duration_minutes", css_class="col-md-4"),
            ),
            "subject",
            "notes",
            "outcome",
            "next_action"
            if editing
            else Row(
                Column("next_action", css_class="col-md-8"),
                Column("follow_up_due", css_class="col-md-4"),
            ),
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_due") and not cleaned.get("next_action"):
            self.add_error("next_action", "Say what the follow-up task is.")
        return cleaned


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.email


class TaskForm(forms.ModelForm):
    assignee = AssigneeField(queryset=User.objects.none())
    client_account = forms.CharField(
        label="Client account number",
        required=False,
        max_length=20,
        help_text="Optional, e.g. C-000123.",
    )

    class Meta:
        model = FollowUpTask
        fields = ["title", "assignee", "due_date", "priority", "status", "notes"]
        widgets = {"due_date": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, client: Client | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_client = client
        self.fields["assignee"].queryset = User.objects.filter(_workspace_q()).order_by(
            "first_name", "last_name", "email"
        )
        if self.instance.pk and self.instance.client_id:
            self.fields["client_account"].initial = self.instance.client.account_number
        if not self.instance.pk:
            del self.fields["status"]
        layout = [
            "title",
            Row(
                Column("assignee", css_class="col-md-6"),
                Column("due_date", css_class="col-md-3"),
                Column("priority", css_class="col-md-3"),
            ),
        ]
        if client is not None:
            del self.fields["client_account"]
        else:
            layout.append("client_account")
        if "status" in self.fields:
            layout.append("status")
        layout.append("notes")
        self.helper = _helper(*layout)

    def clean_client_account(self) -> Client | None:
        number = self.cleaned_data["client_account"].strip().upper()
        if not number:
            return None
        client = Client.objects.filter(account_number=number).first()
        if client is None:
            raise ValidationError(f"No client has the account number {number}.")
        return client

    def save(self, commit: bool = True) -> FollowUpTask:
        if self.fixed_client is not None:
            self.instance.client = self.fixed_client
        elif "client_account" in self.cleaned_data:
            self.instance.client = self.cleaned_data["client_account"]
        return super().save(commit=commit)


class CompleteTaskForm(forms.Form):
    """Completing a task; for a client's task, optionally logging what was done."""

    log_interaction = forms.BooleanField(
        label="Log an interaction on the client's timeline", required=False, initial=True
    )
    kind = forms.ChoiceField(choices=Interaction.Kind.choices, initial=Interaction.Kind.CALL)
    subject = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    outcome = forms.CharField(max_length=200, required=False)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", required=False, min_value=0, max_value=24 * 60
    )

    def __init__(self, *args, task: FollowUpTask, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.fields["subject"].initial = task.title
        if task.client_id is None:
            for name in list(self.fields):
                del self.fields[name]
            self.helper = _helper()
        else:
            self.helper = _helper(
                "log_interaction",
                Div(
                    Row(
                        Column("kind", css_class="col-md-6"),
                        Column("duration_minutes", css_class="col-md-6"),
                    ),
                    "subject",
                    "notes",
                    "outcome",
                ),
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("log_interaction") and not cleaned.get("subject"):
            self.add_error("subject", "Give the interaction a subject.")
        return cleaned

    def interaction(self) -> dict | None:
        data = self.cleaned_data
        if self.task.client_id is None or not data.get("log_interaction"):
            return None
        return {
            "kind": data["kind"],
            "subject": data["subject"],
            "notes": data["notes"],
            "outcome": data["outcome"],
            "duration_minutes": data["duration_minutes"],
        }


class TaskFilterForm(forms.Form):
    who = forms.ChoiceField(
        label="Assigned to",
        required=False,
        choices=[("mine", "Me"), ("all", "Everyone")],
    )
    state = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("open", "Open"), ("overdue", "Overdue"), ("done", "Done"), ("all", "All")],
    )


class ImportUploadForm(forms.Form):
    MAX_BYTES = 25 * 1024 * 1024

    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header row, as in the template. Up to 25 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError("The file is larger than 25 MB; split it into several files.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”."
            ) from exc
        if not text.strip():
            raise ValidationError("The file is empty.")
        return upload.name, text


class PortalInviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address for the login",
        max_length=254,
        help_text="An existing client login with this address is linked at once; otherwise "
        "the address gets an invitation to choose a password.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("email")


class AcceptInvitationForm(forms.Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.helper = _helper("password1", "password2")

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data["password2"]
        if first and first != second:
            raise ValidationError("The two passwords differ.")
        return second

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password1")
        if password and not self.errors:
            try:
                password_validation.validate_password(password, User(email=self.email))
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
