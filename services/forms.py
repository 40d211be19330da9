"""Forms of the catalog and subscriptions pages. Every bad input is answered next to its field."""

from datetime import date
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone

from clients.models import Equipment, ServiceLocation

from .models import Service, Subscription

PRICE_ERRORS = {
    "max_decimal_places": "Enter the price in dollars and cents: at most 2 decimal places.",
    "max_digits": "That price is too large.",
    "invalid": "Enter a price such as 49.99.",
}


def price_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=help_text,
        error_messages={**PRICE_ERRORS, "min_value": "A price cannot be negative."},
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _helper(*fields) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*fields)
    return helper


# --- Catalog --------------------------------------------------------------------------------
class ServiceForm(forms.ModelForm):
    """Edit a service's details; its price changes through the price form (history)."""

    class Meta:
        model = Service
        fields = [
            "name",
            "category",
            "billing_cycle",
            "description",
            "tax_rate",
            "visible_to_clients",
            "self_service",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "tax_rate": {
                "max_decimal_places": "Enter the tax rate with at most 3 decimal places.",
                "invalid": "Enter a percentage such as 8.25.",
            }
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "name",
            Row(
                Column("category", css_class="col-md-6"),
                Column("billing_cycle", css_class="col-md-6"),
            ),
            "description",
            *self.price_fields(),
            "tax_rate",
            "visible_to_clients",
            "self_service",
        )

    def price_fields(self) -> list:
        return []

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class NewServiceForm(ServiceForm):
    price = price_field("Price", help_text="Per month, or once for one-time services.")
    price_effective_from = forms.DateField(
        label="Price effective from",
        widget=DateInput(),
        help_text="Usually today; prices already in effect can never be edited afterwards.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price_effective_from"].initial = timezone.localdate()

    def price_fields(self) -> list:
        return [
            Row(
                Column("price", css_class="col-md-6"),
                Column("price_effective_from", css_class="col-md-6"),
            )
        ]


class PriceChangeForm(forms.Form):
    amount = price_field("New price")
    effective_from = forms.DateField(
        label="Effective from", widget=DateInput(), help_text="Today or a later date."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = timezone.localdate()
        self.helper = _helper(
            Row(
                Column("amount", css_class="col-sm-6"),
                Column("effective_from", css_class="col-sm-6"),
            )
        )

    def clean_effective_from(self) -> date:
        day = self.cleaned_data["effective_from"]
        if day < timezone.localdate():
            raise forms.ValidationError(
                "A price change takes effect today or later; prices already charged are never "
                "changed."
            )
        return day


class CatalogFilterForm(forms.Form):
    category = forms.ChoiceField(
        required=False, choices=[("", "All categories"), *Service.Category.choices]
    )
    state = forms.ChoiceField(
        required=False,
        choices=[("", "Active and inactive"), ("active", "Active"), ("inactive", "Inactive")],
    )


# --- Subscriptions --------------------------------------------------------------------------
class AgreedPriceMixin(forms.Form):
    agreed_price = price_field(
        "Agreed price",
        required=False,
        help_text="Optional discount or promotional unit price; empty means the list price.",
    )
    agreed_price_until = forms.DateField(
        label="Agreed price until",
        required=False,
        widget=DateInput(),
        help_text="Last day of the agreed price; empty means no end.",
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("agreed_price_until")
            and cleaned.get("agreed_price") is None
            and "agreed_price" not in self.errors
        ):
            self.add_error(
                "agreed_price_until", "Set the agreed price too, or leave this date empty."
            )
        return cleaned


class QuantityField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(
            min_value=1,
            max_value=1000,
            initial=1,
            error_messages={
                "min_value": "The quantity must be at least 1.",
                "max_value": "The quantity can be at most 1000.",
                "invalid": "Enter a whole number.",
            },
            **kwargs,
        )


class NewSubscriptionForm(AgreedPriceMixin, forms.Form):
    """Staff assign a service to one location."""

    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), empty_label="Choose a service…"
    )
    quantity = QuantityField()
    start_date = forms.DateField(widget=DateInput())
    end_date = forms.DateField(
        required=False, widget=DateInput(), help_text="Optional: last day billed."
    )
    status = forms.ChoiceField(
        label="Starts as",
        choices=[
            (Subscription.Status.ACTIVE, "Active: billing starts on the start date"),
            (Subscription.Status.PENDING, "Pending: activate it after installation"),
        ],
        initial=Subscription.Status.ACTIVE,
        widget=forms.RadioSelect,
    )
    equipment = forms.ModelChoiceField(
        queryset=Equipment.objects.none(),
        required=False,
        empty_label="No equipment",
        help_text="For equipment rentals: the piece rented (installed at this location).",
    )

    def __init__(self, *args, location: ServiceLocation, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        self.fields["service"].queryset = Service.objects.filter(is_active=True).order_by(
            "category", "name"
        )
        self.fields["equipment"].queryset = Equipment.objects.filter(location=location)
        self.fields["start_date"].initial = timezone.localdate()
        self.helper = _helper(
            "service",
            Row(
                Column("quantity", css_class="col-md-4"),
                Column("start_date", css_class="col-md-4"),
                Column("end_date", css_class="col-md-4"),
            ),
            "status",
            Row(
                Column("agreed_price", css_class="col-md-6"),
                Column("agreed_price_until", css_class="col-md-6"),
            ),
            "equipment",
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date cannot be before the start date.")
        return cleaned


class ChangeSubscriptionForm(AgreedPriceMixin, forms.Form):
    quantity = QuantityField()
    equipment = forms.ModelChoiceField(
        queryset=Equipment.objects.none(), required=False, empty_label="No equipment"
    )

    def __init__(self, *args, subscription: Subscription, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "quantity": subscription.quantity,
                "agreed_price": subscription.agreed_price,
                "agreed_price_until": subscription.agreed_price_until,
                "equipment": subscription.equipment_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["equipment"].queryset = Equipment.objects.filter(
            location_id=subscription.location_id
        )
        self.helper = _helper(
            "quantity",
            Row(
                Column("agreed_price", css_class="col-md-6"),
                Column("agreed_price_until", css_class="col-md-6"),
            ),
            "equipment",
        )


class ActivateForm(forms.Form):
    start_date = forms.DateField(
        label="Active from", widget=DateInput(), help_text="Billing starts on this day."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = timezone.localdate()


class CancelForm(forms.Form):
    effective_date = forms.DateField(
        label="Last day of service",
        required=False,
        widget=DateInput(),
        help_text="Defaults to the end of the current billing period.",
    )

    def __init__(self, *args, default: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].initial = default


class SubscriptionFilterForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, empty_label="All services"
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *Subscription.Status.choices]
    )
    city = forms.CharField(required=False, max_length=100)


class LocationSearchForm(forms.Form):
    q = forms.CharField(label="Client or address", required=False, max_length=100)


class MonthForm(forms.Form):
    month = forms.CharField(required=False, max_length=7)

    def period(self, default: date) -> tuple[int, int]:
        """(year, month) from `?month=2025-11`, or the default's month when absent or bad."""
        raw = self.data.get("month", "") if self.is_bound else ""
        try:
            year, month = (int(part) for part in raw.split("-"))
            date(year, month, 1)
        except (ValueError, TypeError):
            return default.year, default.month
        return year, month
