"""Forms of the payment pages. The money rules (amounts, dates, picks, card digits) are checked
by `allocation.record_payment`; its PaymentError is shown next to the field it names."""

from datetime import date

from django import forms
from django.http import QueryDict
from django.utils import timezone

from .models import PaymentMethod
from .payment_queries import DEFAULT_PAYMENT_SORT, PAYMENT_SORTS

PICK_PREFIX = "pick_"


class ChooseClientForm(forms.Form):
    client = forms.CharField(
        label="Client account number",
        max_length=20,
        help_text="As shown on the client page, e.g. C-000123.",
    )


class PaymentForm(forms.Form):
    """Amount and invoice amounts are text: record_payment says what is wrong with them
    (three decimals, zero, negative, more than a balance) in the same words everywhere."""

    amount = forms.CharField(
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="e.g. 49.99",
    )
    received_on = forms.DateField(
        label="Date received", widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices, initial=PaymentMethod.CASH)
    reference = forms.CharField(
        required=False, max_length=100, help_text="Check number, transfer id…"
    )
    card_brand = forms.CharField(required=False, max_length=20, label="Card brand")
    card_last4 = forms.CharField(
        required=False,
        max_length=19,
        label="Card last 4 digits",
        help_text="Never the full card number.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The per-invoice amounts arrive as pick_<invoice id> fields (read by `typed_picks()`); this
    # field only carries their errors, so they show next to the invoice table.
    picks = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate

    def typed_picks(self) -> dict[str, str]:
        """Every pick_<id> field that was filled in: {id as typed: amount as typed}.
        Ids are kept as typed so a made-up one is refused by the domain with a message."""
        return {
            key[len(PICK_PREFIX) :]: value.strip()
            for key, value in self.data.items()
            if key.startswith(PICK_PREFIX) and value and value.strip()
        }


class RefundForm(forms.Form):
    amount = forms.CharField(max_length=30, label="Amount to refund")
    reason = forms.CharField(max_length=300)


class ReverseForm(forms.Form):
    reason = forms.CharField(
        max_length=300, help_text="e.g. Check bounced, or recorded for the wrong client."
    )


class PaymentFilterForm(forms.Form):
    client = forms.CharField(
        required=False,
        max_length=100,
        label="Client, receipt or reference",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    method = forms.ChoiceField(choices=[("", "Any method"), *PaymentMethod.choices], required=False)
    date_from = forms.DateField(
        required=False, label="Received from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="to", widget=forms.DateInput(attrs={"type": "date"})
    )
    min_amount = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Amount from"
    )
    max_amount = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="to"
    )
    has_credit = forms.BooleanField(required=False, label="With unallocated credit")
    sort = forms.ChoiceField(
        choices=[(key, key) for key in PAYMENT_SORTS], required=False, widget=forms.HiddenInput
    )

    def clean(self):
        data = super().clean()
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            self.add_error("max_amount", "The upper bound must not be below the lower one.")
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date must not be before the start date.")
        data["sort"] = data.get("sort") or DEFAULT_PAYMENT_SORT
        return data


# The list's filters: a query string naming none of them (only a page or a sort) gets the
# default period, the current month.
PAYMENT_FILTERS = (
    "client",
    "method",
    "date_from",
    "date_to",
    "min_amount",
    "max_amount",
    "has_credit",
)


def with_default_period(query: QueryDict, *, today: date) -> tuple[QueryDict, bool]:
    """The payments list opens on this month's payments (1.2 million a year cannot be counted,
    summed and sorted for every visit): with no filter in the query string, `date_from` is the
    1st of the current month, shown in the form like any filter. A filter present, even empty
    (the form submitted with the date cleared, the "All dates" link), is taken as it is, so
    the default is removable and links such as "all payments of this client" are not cut.
    Returns the query to apply and whether the default was added."""
    if any(name in query for name in PAYMENT_FILTERS):
        return query, False
    query = query.copy()
    query["date_from"] = today.replace(day=1).isoformat()
    return query, True
