"""Writes for accounts; views and the admin go through these."""

from django.db import transaction

from .models import User


@transaction.atomic
def user_create(*, email: str, password: str, display_name: str = "", country: str = "") -> User:
    """Create a person's account; the email is stored lowercased (it is the login)."""
    return User.objects.create_user(
        email=email, password=password, display_name=display_name, country=country
    )
