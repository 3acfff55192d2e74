"""One spelling per login: the email a person types is stripped and lower-cased everywhere.

Login, sign-up, password reset, email change, the stored address and django-axes' failure
counter all use :func:`email_normalize`, so ``Me@Example.com`` and ``me@example.com`` are one
account *and* one lockout counter (issue 11: each capitalisation used to get its own five
guesses).
"""

from django.conf import settings
from django.http import HttpRequest


def email_normalize(value: str | None) -> str:
    """The stored and compared form of an email address: no surrounding space, lower case."""
    return (value or "").strip().lower()


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the login name axes counts failures and lockouts under.

    Axes reads the name from ``credentials`` when ``authenticate`` passes them and from the
    POST body otherwise (axes.helpers.get_client_username); both are normalised here.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field)
    else:
        value = getattr(request, "data", request.POST).get(field)
    return None if value is None else email_normalize(str(value))
