"""Sign-up, log-in, password reset, email change and admin forms for email-login users."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, UserChangeForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import errors
from .countries import COUNTRIES
from .errors import EMAIL_TAKEN, INACTIVE_LOGIN, INVALID_LOGIN
from .models import User
from .normalization import email_normalize
from .zones import time_zone_names

__all__ = ["EMAIL_TAKEN", "INACTIVE_LOGIN", "INVALID_LOGIN"]  # kept importable from here

REQUIRED_MESSAGES = {
    "email": errors.EMAIL_REQUIRED,
    "password1": _("Choose a password."),
    "password2": _("Enter the same password again."),
}

COUNTRY_CHOICES = [("", _("Prefer not to say")), *COUNTRIES]
# Each language named in itself ("Deutsch", "日本語"): a person finds their own.
LANGUAGE_CHOICES = settings.LANGUAGES


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


def _language_field(*, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Language"),
        required=required,
        choices=LANGUAGE_CHOICES,
        error_messages={"invalid_choice": errors.LANGUAGE_UNKNOWN},
        widget=forms.Select(attrs={"autocomplete": "language"}),
    )


def _time_zone_field(*, required: bool = True) -> forms.ChoiceField:
    # static/js/time_zone.js selects the browser's zone; without JavaScript the site's.
    return forms.ChoiceField(
        label=_("Time zone"),
        required=required,
        choices=time_zone_choices,
        initial=settings.TIME_ZONE,
        help_text=_("Deadlines, reminders and receipts show times in this zone."),
        error_messages={"invalid_choice": errors.TIME_ZONE_UNKNOWN},
        widget=forms.Select(attrs={"data-detect-time-zone": settings.TIME_ZONE}),
    )


def _email_field(**kwargs) -> forms.EmailField:
    field = forms.EmailField(
        label=_("Email"),
        max_length=User._meta.get_field("email").max_length,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
        **kwargs,
    )
    field.error_messages["required"] = errors.EMAIL_REQUIRED
    return field


class SignupStartForm(forms.Form):
    """Step one of sign-up: only the address, which a link then proves."""

    email = _email_field()

    def clean_email(self) -> str:
        return email_normalize(self.cleaned_data["email"])


class SignupForm(BaseUserCreationForm):
    """Validates a new account; ``accounts.services.user_create`` writes it.

    Staff use it in admin as is; the public sign-up uses ``SignupCompleteForm``, whose
    email comes from a signed link, never from the person typing it.
    """

    country = forms.ChoiceField(
        choices=COUNTRY_CHOICES,
        required=False,
        help_text=_("Optional. Decides which country's privacy rules apply to you."),
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    class Meta:
        model = User
        fields = ("email", "display_name", "country")
        labels = {"email": _("Email"), "display_name": _("Display name")}
        help_texts = {"display_name": _("Optional. How the app addresses you.")}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "display_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, message in REQUIRED_MESSAGES.items():
            self.fields[name].error_messages["required"] = message

    def clean_email(self) -> str:
        # Stored normalised (UserManager does the same); the database's
        # Lower(email) constraint is the backstop for a race between two sign-ups.
        email = email_normalize(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def validate_unique(self) -> None:
        # clean_email already gave the friendlier message for the only unique field.
        if "email" not in self.errors:
            super().validate_unique()


class SignupCompleteForm(SignupForm):
    """Step two: the rest of the account, for the address the signed link was sent to,
    and the language and time zone the product speaks to them in."""

    # Pre-filled, so a browser always sends both; a client that leaves them out gets
    # "not chosen" (negotiated per request) and the site's zone.
    language = _language_field(required=False)
    time_zone = _time_zone_field(required=False)

    def __init__(self, *args, email: str, **kwargs):
        # The language this page is read in is the likeliest answer.
        initial = {"email": email, "language": get_language(), "time_zone": settings.TIME_ZONE}
        super().__init__(*args, initial=initial, **kwargs)
        # Disabled: the posted value is ignored and the link's address is used.
        self.fields["email"].disabled = True
        self.fields["email"].help_text = _("Confirmed by the link you opened.")
        self.fields["email"].widget.attrs.pop("autofocus", None)
        self.fields["display_name"].widget.attrs["autofocus"] = True


class AdminUserChangeForm(UserChangeForm):
    """Admin edits keep the stored email normalised, as every login compares it."""

    def clean_email(self) -> str:
        return email_normalize(self.cleaned_data["email"])


class LoginForm(AuthenticationForm):
    """AuthenticationForm passes ``request`` to ``authenticate``, which django-axes needs."""

    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INACTIVE_LOGIN}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = _("Email")
        username.widget.input_type = "email"
        username.widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        username.error_messages["required"] = errors.EMAIL_REQUIRED
        # AuthenticationForm sets max_length after the field built its validators, so the
        # length was never checked: an over-long login reached authenticate() and axes'
        # AccessAttempt.username (varchar 255), a 500 on PostgreSQL (tests/test_fuzz_forms.py).
        username.validators.append(MaxLengthValidator(username.max_length))
        password = self.fields["password"]
        password.widget.attrs["autocomplete"] = "current-password"
        password.error_messages["required"] = errors.PASSWORD_REQUIRED

    def clean_username(self) -> str:
        # One spelling per account before authenticate() and axes see it: otherwise each
        # capitalisation of an address got its own failure counter (issue 11).
        return email_normalize(self.cleaned_data["username"])


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's reset form; the email is normalised and sent from a worker (the view)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.error_messages["required"] = errors.EMAIL_REQUIRED
        email.widget.attrs["autocapitalize"] = "none"

    def clean_email(self) -> str:
        return email_normalize(self.cleaned_data["email"])


class EmailChangeForm(forms.Form):
    """The new address and, to prove it is the account's owner asking, the password."""

    new_email = _email_field()
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": errors.PASSWORD_REQUIRED},
    )

    def __init__(self, *args, user: User, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        self.fields["new_email"].label = _("New email")

    def clean_new_email(self) -> str:
        email = email_normalize(self.cleaned_data["new_email"])
        if email == self.user.email:
            raise ValidationError(errors.EMAIL_UNCHANGED, code="unchanged")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Through authenticate(), not check_password(): django-axes counts wrong passwords
        # here too, so a stolen session cannot guess the password without limit.
        checked = authenticate(self.request, username=self.user.email, password=password)
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(errors.WRONG_PASSWORD, code="wrong_password")
        return password


class LocaleSettingsForm(forms.Form):
    """Account settings: the language and time zone a person reads the product in."""

    language = _language_field()
    time_zone = _time_zone_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The saved zone is the person's choice: the browser's guess must not replace it.
        self.fields["time_zone"].widget.attrs.pop("data-detect-time-zone")
