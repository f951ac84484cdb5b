"""The admin's adjustment form: how many credits, which way, and why."""

import uuid

from django import forms

from credits.models import MAX_CREDITS


class AdjustmentForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-MAX_CREDITS,
        max_value=MAX_CREDITS,
        help_text="Credits to add (positive) or take away (negative). The balance may go below zero.",
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    # Generated when the form is shown, so submitting it twice posts one entry.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment must move at least one credit.")
        return amount

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why.")
        return reason
