"""Forms of the portal pay flow, the sandbox card page and the statement date range."""

from datetime import date

from django import forms
from django.utils import timezone

from .allocation import PaymentError, invoice_balance
from .models import Invoice
from .online import Choice, check_choices
from .providers.sandbox import CardError, check_card


class PortalPayForm(forms.Form):
    """Which of the client's open invoices to pay, and how much of each (default: all of it).
    One checkbox `invoices` per invoice and an `amount_<id>` field each."""

    invoices = forms.TypedMultipleChoiceField(
        coerce=int,
        label="Invoices to pay",
        error_messages={
            "required": "Choose at least one invoice to pay.",
            # A forged id (someone else's invoice, a paid one): the same words for all.
            "invalid_choice": "Choose among your open invoices.",
        },
    )

    def __init__(self, *args, client, payable: list[Invoice], preselect=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.payable = payable
        self.fields["invoices"].choices = [(str(i.pk), i.number) for i in payable]
        for invoice in payable:
            self.fields[f"amount_{invoice.pk}"] = forms.CharField(
                label=f"Amount to pay on {invoice.number}",
                required=False,
                max_length=20,
                initial=f"{invoice_balance(invoice):.2f}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
        if not self.is_bound:
            wanted = {str(pk) for pk in (preselect or [])} or {str(i.pk) for i in payable}
            self.initial["invoices"] = [str(i.pk) for i in payable if str(i.pk) in wanted]

    def rows(self):
        """(invoice, checked, amount bound field) for the template's table."""
        if self.is_bound:
            chosen = set(self.data.getlist("invoices"))
        else:
            chosen = set(self.initial.get("invoices", []))
        return [(i, str(i.pk) in chosen, self[f"amount_{i.pk}"]) for i in self.payable]

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("invoices")
        if not chosen:
            return cleaned
        choices = [Choice(pk, (cleaned.get(f"amount_{pk}") or "").strip()) for pk in chosen]
        try:
            self.plan = check_choices(client=self.client, choices=choices)
        except PaymentError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        self.choices = choices
        return cleaned


class SandboxCardForm(forms.Form):
    """The test-mode card form. Its values are checked and dropped, never stored."""

    card_number = forms.CharField(
        label="Card number",
        max_length=30,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "cc-number", "spellcheck": "false"}
        ),
    )
    expiry = forms.CharField(
        label="Expiry (MM/YY)",
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}),
    )
    cvc = forms.CharField(
        label="Security code (CVC)",
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}),
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            check_card(
                number=cleaned["card_number"],
                expiry=cleaned["expiry"],
                cvc=cleaned["cvc"],
                today=timezone.localdate(),
            )
        except CardError as exc:
            self.add_error(exc.field, exc.message)
        return cleaned


class StatementRangeForm(forms.Form):
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date is before the start date.")
        for name in ("start", "end"):
            value = cleaned.get(name)
            if value and not (date(1900, 1, 1) <= value <= date(2999, 12, 31)):
                self.add_error(name, "Enter a date between 1900 and 2999.")
        return cleaned

    def range(self) -> tuple[date | None, date | None]:
        if not self.is_valid():
            return None, None
        return self.cleaned_data.get("start"), self.cleaned_data.get("end")
