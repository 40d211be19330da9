"""Filters of the staff reports. Bad values are answered next to their field."""

from datetime import date

from django import forms

from clients.models import Client

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LIMITS = [(10, "10"), (25, "25"), (50, "50"), (100, "100")]
MAX_MONTHS = 36


class ReportFilterForm(forms.Form):
    first = forms.DateField(label="From", required=False, widget=DATE_INPUT)
    last = forms.DateField(label="To", required=False, widget=DATE_INPUT)
    limit = forms.TypedChoiceField(
        label="How many", required=False, choices=LIMITS, coerce=int, empty_value=10
    )
    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Client.Status.choices]
    )
    segment = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *Client.Segment.choices]
    )

    def __init__(self, *args, fields: tuple[str, ...], default_range: tuple[date, date], **kw):
        super().__init__(*args, **kw)
        self.default_range = default_range
        for name in list(self.fields):
            if name not in fields:
                del self.fields[name]

    def clean_q(self) -> str:
        return self.cleaned_data.get("q", "").replace("\x00", "").strip()

    def clean(self):
        data = super().clean()
        if "first" in self.fields:
            first = data.get("first") or self.default_range[0]
            last = data.get("last") or self.default_range[1]
            if last < first:
                self.add_error("last", "The end date cannot be before the start date.")
            elif (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
                self.add_error("last", f"Choose at most {MAX_MONTHS} months.")
            data["first"], data["last"] = first, last
        return data
