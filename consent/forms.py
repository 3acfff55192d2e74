from django import forms

from . import errors


class DecisionSubmissionForm(forms.Form):
    """Parses a posted decision; the meaning is checked by the service."""

    form_token = forms.CharField(max_length=2000)
    decision = forms.CharField(max_length=20, error_messages={"required": errors.INVALID_CHOICE})
    training = forms.BooleanField(required=False)
    toggle_touched = forms.BooleanField(required=False)
    learn_more_opened = forms.BooleanField(required=False)
    next = forms.CharField(max_length=2000, required=False)


class DeferSubmissionForm(forms.Form):
    form_token = forms.CharField(max_length=2000)
    next = forms.CharField(max_length=2000, required=False)
