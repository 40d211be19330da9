"""Forms of the sales pipeline. Bad values are answered next to their field."""

from crispy_forms.layout import Column, Row
from django import forms
from django.core.exceptions import ValidationError

from staff.models import User

from .forms import DATE_INPUT, AssigneeField, _helper
from .models import Client, Opportunity
from .models import workspace_user_choices as _workspace_q


def _workspace_users():
    return User.objects.filter(_workspace_q()).order_by("first_name", "last_name", "email")


class OpportunityForm(forms.ModelForm):
    owner = AssigneeField(queryset=User.objects.none())
    client_account = forms.CharField(
        label="Client or prospect account number", max_length=20, help_text="e.g. C-000123."
    )
    probability = forms.IntegerField(
        label="Probability (%)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="Leave empty to use the stage's probability.",
        error_messages={
            "min_value": "Enter a percentage from 0 to 100.",
            "max_value": "Enter a percentage from 0 to 100.",
            "invalid": "Enter a whole percentage from 0 to 100.",
        },
    )
    value = forms.DecimalField(
        label="Value",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        error_messages={
            "min_value": "The value cannot be negative.",
            "max_decimal_places": "Use at most 2 decimals (cents).",
            "max_digits": "That value is too large.",
            "max_whole_digits": "That value is too large.",
            "invalid": "Enter an amount such as 1200.00.",
        },
    )

    class Meta:
        model = Opportunity
        fields = ["name", "value", "stage", "expected_close_date", "owner", "notes"]
        widgets = {
            "expected_close_date": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, client: Client | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_client = client
        self.fields["owner"].queryset = _workspace_users()
        if self.instance.pk:
            default = Opportunity.STAGE_PROBABILITY[Opportunity.Stage(self.instance.stage)]
            if self.instance.probability != default:
                self.fields["probability"].initial = self.instance.probability
            self.fields["client_account"].initial = self.instance.client.account_number
        layout = ["name"]
        if client is not None:
            del self.fields["client_account"]
        else:
            layout.append("client_account")
        layout += [
            Row(
                Column("value", css_class="col-md-4"),
                Column("stage", css_class="col-md-4"),
                Column("probability", css_class="col-md-4"),
            ),
            Row(
                Column("expected_close_date", css_class="col-md-6"),
                Column("owner", css_class="col-md-6"),
            ),
            "notes",
        ]
        self.helper = _helper(*layout)

    def clean_client_account(self) -> Client:
        number = self.cleaned_data["client_account"].strip().upper()
        client = Client.objects.filter(account_number=number).first()
        if client is None:
            raise ValidationError(f"No client or prospect has the account number {number}.")
        return client

    def save(self, commit: bool = True) -> Opportunity:
        if self.fixed_client is not None:
            self.instance.client = self.fixed_client
        elif "client_account" in self.cleaned_data:
            self.instance.client = self.cleaned_data["client_account"]
        return super().save(commit=commit)


class MoveForm(forms.Form):
    stage = forms.ChoiceField(label="Move to", choices=Opportunity.Stage.choices)


STATE_CHOICES = [("", "Open and closed"), ("open", "Open"), ("closed", "Closed")]


class OpportunityFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    stage = forms.ChoiceField(
        label="Stage", required=False, choices=[("", "Any stage"), *Opportunity.Stage.choices]
    )
    state = forms.ChoiceField(label="Open or closed", required=False, choices=STATE_CHOICES)
    owner = AssigneeField(
        label="Owner", required=False, queryset=User.objects.none(), empty_label="Anyone"
    )
    close_from = forms.DateField(label="Closing from", required=False, widget=DATE_INPUT)
    close_to = forms.DateField(label="to", required=False, widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _workspace_users()

    def clean_q(self) -> str:
        return self.cleaned_data["q"].replace("\x00", "").strip()

    def clean(self):
        data = super().clean()
        if (
            data.get("close_from")
            and data.get("close_to")
            and data["close_to"] < data["close_from"]
        ):
            self.add_error("close_to", "The end date cannot be before the start date.")
        return data

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data["q"],
            "stage": data["stage"],
            "state": data["state"],
            "owner": data["owner"],
            "close_from": data["close_from"],
            "close_to": data["close_to"],
        }
