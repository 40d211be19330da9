"""Forms of the collections pages: late payers filters and reminder pauses."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from clients.models import Client

from .aging import BUCKETS, DEFAULT_SORT, SORTS
from .reminders import MAX_PAUSE_DAYS


class LatePayersFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Client",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, account or email"}),
    )
    min_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        label="Overdue at least",
        error_messages={"invalid": "Enter an amount such as 50.00."},
    )
    bucket = forms.ChoiceField(
        choices=[("", "Any age"), *BUCKETS.items()], required=False, label="Owing in"
    )
    segment = forms.ChoiceField(
        choices=[("", "Any segment"), *Client.Segment.choices], required=False
    )
    paused = forms.ChoiceField(
        choices=[("", "Paused or not"), ("yes", "Reminders paused"), ("no", "Not paused")],
        required=False,
        label="Reminders",
    )
    sort = forms.ChoiceField(
        choices=[(key, key) for key in SORTS], required=False, widget=forms.HiddenInput
    )

    def filters(self) -> dict:
        """The valid filters only: a bad value in one field leaves the others applied (and
        its message shows next to it)."""
        if not self.is_bound:
            return {"search": "", "min_amount": None, "bucket": "", "segment": "", "paused": "",
                    "sort": DEFAULT_SORT}  # fmt: skip
        self.is_valid()  # fills cleaned_data with the fields that are valid
        data = self.cleaned_data
        return {
            "search": data.get("q") or "",
            "min_amount": data.get("min_amount"),
            "bucket": data.get("bucket") or "",
            "segment": data.get("segment") or "",
            "paused": data.get("paused") or "",
            "sort": data.get("sort") or DEFAULT_SORT,
        }


class PauseForm(forms.Form):
    until = forms.DateField(
        label="Pause reminders until",
        help_text="Reminders start again on this day (a promise to pay).",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Enter the date reminders should start again.",
            "invalid": "Enter a date such as 2027-01-15.",
        },
    )

    def clean_until(self):
        until = self.cleaned_data["until"]
        today = timezone.localdate()
        if until <= today:
            raise forms.ValidationError("Choose a date after today.")
        if until > today + timedelta(days=MAX_PAUSE_DAYS):
            raise forms.ValidationError("Pause for at most a year.")
        return until
