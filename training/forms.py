from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from . import errors


class AccountDeleteForm(forms.Form):
    """Password re-entry before the account goes: a left-open session is not enough."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through authenticate(), so failed tries count towards the axes lockout like a login.
        confirmed = authenticate(self.request, username=user.email, password=password)
        if confirmed is None or confirmed.pk != user.pk:
            raise forms.ValidationError(errors.WRONG_PASSWORD, code="wrong_password")
        return password
