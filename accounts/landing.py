"""Where a person lands after logging in: staff who never chat go straight to admin.

A "chat user" is anyone who has used the product: they have answered the training
question (a consent record) or have a conversation. Staff accounts with neither are
operators' accounts; sending them to the chat would only put the consent question in
front of someone who came to work in admin (issue 13). Staff who also chat land in the
chat like anyone and meet the consent gate there; the navigation offers them admin.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import resolve_url
from django.urls import reverse


def staff_only_q() -> Q:
    """Users who are staff and have never used the chat (no consent record, no conversation)."""
    return Q(is_staff=True, consent_records__isnull=True, conversations__isnull=True)


def user_is_staff_only(user) -> bool:
    if not user.is_staff:  # the common case asks the database nothing
        return False
    return get_user_model()._default_manager.filter(staff_only_q(), pk=user.pk).exists()


def login_landing_url(user) -> str:
    if user_is_staff_only(user):
        return reverse("admin:index")
    return resolve_url(settings.LOGIN_REDIRECT_URL)
