"""Reads for accounts."""

from .models import User
from .normalization import email_normalize


def user_by_email(*, email: str) -> User | None:
    """The account whose login is ``email`` (in any spelling), or None."""
    return User.objects.filter(email=email_normalize(email)).first()
