"""Sign-up, log-in and admin forms for email-login users."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from .countries import COUNTRIES
from .models import User

EMAIL_TAKEN = "An account with this email already exists. Log in instead, or use another email."
INVALID_LOGIN = "That email and password do not match an account. Check both and try again."
INACTIVE_LOGIN = "This account is closed. Contact support if you think this is a mistake."

REQUIRED_MESSAGES = {
    "email": "Enter your email address.",
    "password1": "Choose a password.",
    "password2": "Enter the same password again.",
}

COUNTRY_CHOICES = [("", "Prefer not to say"), *COUNTRIES]


class SignupForm(BaseUserCreationForm):
    """Validates a new account; ``accounts.services.user_create`` writes it."""

    country = forms.ChoiceField(
        choices=COUNTRY_CHOICES,
        required=False,
        help_text="Optional. Decides which country's privacy rules apply to you.",
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    class Meta:
        model = User
        fields = ("email", "display_name", "country")
        labels = {"email": "Email", "display_name": "Display name"}
        help_texts = {"display_name": "Optional. How the app addresses you."}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "display_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, message in REQUIRED_MESSAGES.items():
            self.fields[name].error_messages["required"] = message

    def clean_email(self) -> str:
        # Stored lowercased (UserManager does the same); the database's
        # Lower(email) constraint is the backstop for a race between two sign-ups.
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def validate_unique(self) -> None:
        # clean_email already gave the friendlier message for the only unique field.
        if "email" not in self.errors:
            super().validate_unique()


class LoginForm(AuthenticationForm):
    """AuthenticationForm passes ``request`` to ``authenticate``, which django-axes needs."""

    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INACTIVE_LOGIN}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = "Email"
        username.widget.input_type = "email"
        username.widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        username.error_messages["required"] = "Enter your email address."
        # AuthenticationForm sets max_length after the field built its validators, so the
        # length was never checked: an over-long login reached authenticate() and axes'
        # AccessAttempt.username (varchar 255), a 500 on PostgreSQL (tests/test_fuzz_forms.py).
        username.validators.append(MaxLengthValidator(username.max_length))
        password = self.fields["password"]
        password.widget.attrs["autocomplete"] = "current-password"
        password.error_messages["required"] = "Enter your password."
