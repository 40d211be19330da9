"""Forms of the invoices pages. Every bad input gets a message next to its field."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.money import format_money

from .billing import parse_period
from .drafts import LineData
from .models import Invoice
from .queries import DEFAULT_SORT, SORTS

MAX_RECIPIENTS = 10


class PeriodField(forms.CharField):
    """A billing period typed as YYYY-MM (the browser's month picker sends that)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_period(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def prepare_value(self, value):
        if isinstance(value, tuple):
            return f"{value[0]}-{value[1]:02d}"
        return value


class EmailListField(forms.CharField):
    """Addresses separated by commas, semicolons or spaces; each one is checked."""

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        parts = [p.strip() for p in text.replace(";", ",").replace(" ", ",").split(",")]
        addresses = [p for p in parts if p]
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                f"Not a valid email address: {', '.join(bad)}. Separate addresses with commas."
            )
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(f"At most {MAX_RECIPIENTS} addresses.")
        return list(dict.fromkeys(addresses))

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value


# --- Staff list ------------------------------------------------------------------------------
class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Invoice.Status.choices], required=False
    )
    overdue = forms.BooleanField(required=False, label="Overdue only")
    client = forms.CharField(
        required=False,
        max_length=100,
        label="Client or number",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, account or number"}),
    )
    period = PeriodField(required=False, label="Period")
    min_total = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Total from"
    )
    max_total = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Total to"
    )
    sort = forms.ChoiceField(
        choices=[(key, key) for key in SORTS], required=False, widget=forms.HiddenInput
    )
    # Set by the dashboard's links (invoiced in a period, outstanding), kept while filtering.
    issued_from = forms.DateField(required=False, widget=forms.HiddenInput)
    issued_to = forms.DateField(required=False, widget=forms.HiddenInput)
    open = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        low, high = data.get("min_total"), data.get("max_total")
        if low is not None and high is not None and low > high:
            self.add_error("max_total", "The upper bound must not be below the lower one.")
        data["sort"] = data.get("sort") or DEFAULT_SORT
        return data


# --- Manual invoices -------------------------------------------------------------------------
class DraftForm(forms.Form):
    client = forms.CharField(
        label="Client account number",
        max_length=20,
        help_text="As shown on the client page, e.g. C-000123.",
    )
    notes = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Printed on the invoice.",
    )

    def __init__(self, *args, client_fixed: Client | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_fixed = client_fixed
        if client_fixed is not None:
            # Editing a draft: the client stays; a wrong client means deleting the draft.
            del self.fields["client"]

    def clean_client(self) -> Client:
        number = self.cleaned_data["client"].strip()
        client = Client.objects.filter(account_number__iexact=number).first()
        if client is None:
            raise ValidationError(f"No client has the account number {number}.")
        return client


class LineForm(forms.Form):
    description = forms.CharField(max_length=300)
    quantity = forms.DecimalField(
        min_value=Decimal("0.01"), max_digits=9, decimal_places=2, initial=Decimal("1")
    )
    unit_price = forms.DecimalField(max_digits=12, decimal_places=2, label="Unit price")
    tax_rate = forms.DecimalField(
        min_value=0, max_value=100, max_digits=6, decimal_places=3, label="Tax %"
    )

    def __init__(self, *args, default_tax_rate: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        self.fields["description"].widget.attrs["placeholder"] = "e.g. Repair visit"
        if default_tax_rate is not None:
            self.fields["tax_rate"].initial = default_tax_rate

    def has_changed(self) -> bool:
        # A row left without description and price is an unused row, even though its
        # quantity and tax rate carry defaults: it is skipped, not reported as incomplete.
        data = self.data
        blank = all(
            not (data.get(self.add_prefix(name)) or "").strip()
            for name in ("description", "unit_price")
        )
        return False if blank else super().has_changed()

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        if price < 0:
            raise ValidationError(
                "A price cannot be negative; to reduce an issued invoice, issue a credit note."
            )
        return price


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.line_data():
            raise ValidationError("Add at least one line.")

    def line_data(self) -> list[LineData]:
        lines = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or (self.can_delete and data.get("DELETE")):
                continue
            lines.append(
                LineData(
                    description=data["description"],
                    quantity=data["quantity"],
                    unit_price=data["unit_price"],
                    tax_rate=data["tax_rate"],
                )
            )
        return lines


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=2, can_delete=True, max_num=50, validate_max=True
)


def line_formset(data=None, *, invoice: Invoice | None = None):
    default_rate = get_company().default_tax_rate
    if invoice is not None:
        initial = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate": line.tax_rate,
            }
            for line in invoice.lines.all()
        ]
    else:
        initial = []
    return LineFormSet(
        data, initial=initial, prefix="lines", form_kwargs={"default_tax_rate": default_rate}
    )


# --- Sending ---------------------------------------------------------------------------------
class EmailInvoiceForm(forms.Form):
    to = EmailListField(label="To", max_length=1000)
    cc = EmailListField(label="Cc", max_length=1000, required=False)
    bcc = EmailListField(
        label="Bcc", max_length=1000, required=False, help_text="Hidden from the other recipients."
    )
    subject = forms.CharField(max_length=200)
    message = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 10}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "to", Row(Column("cc", css_class="col-md-6"), Column("bcc", css_class="col-md-6")),
            "subject", "message",
        )  # fmt: skip


class SmsInvoiceForm(forms.Form):
    message = forms.CharField(
        max_length=480,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Up to 480 characters (3 SMS segments).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class CreditNoteForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Printed on the credit note.")
    lines = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=True,
        label="Lines to credit",
        error_messages={"required": "Choose at least one line to credit."},
    )

    def __init__(self, *args, remaining=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [
            (str(line.pk), f"{line.description} — {format_money(line.net)}") for line in remaining
        ]
        self.fields["lines"].initial = [str(line.pk) for line in remaining]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_lines(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["lines"]]


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=300, initial="Invoice cancelled")


class BillingRunForm(forms.Form):
    period = PeriodField(
        label="Period to bill", help_text="The calendar month whose services are invoiced."
    )


class IssueForm(forms.Form):
    notify = forms.BooleanField(
        required=False,
        initial=True,
        label="Send it to the client (email, and SMS if they agreed to SMS)",
    )


# --- Portal ----------------------------------------------------------------------------------
class PortalEmailForm(forms.Form):
    other_address = forms.EmailField(
        required=False,
        label="Also send to (optional)",
        help_text="One more address, e.g. your accountant's.",
        max_length=254,
    )
