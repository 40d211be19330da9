from django import forms

from .models import Delivery


class DeliveryFilterForm(forms.Form):
    q = forms.CharField(label="Recipient", required=False, max_length=200)
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "All channels"), *Delivery.Channel.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *Delivery.Status.choices]
    )
    purpose = forms.ChoiceField(label="Purpose", required=False)

    def __init__(self, *args, purposes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = [("", "All purposes")] + [(p, p) for p in purposes]
        for name in ("channel", "status", "purpose"):
            self.fields[name].widget.attrs["class"] = "form-select"


class OutboxSearchForm(forms.Form):
    q = forms.CharField(label="Phone number", required=False, max_length=50)
