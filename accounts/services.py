"""Writes for accounts; views, tasks and the admin go through these.

The emails that could tell a stranger whether an address has an account (sign-up, password
reset, email change to a taken address) are decided and sent in a worker: the request only
normalises the address and enqueues, the same work and the same answer either way.
"""

import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language

from . import errors, selectors
from .emails import account_email
from .models import User
from .normalization import email_normalize
from .tokens import (
    EMAIL_CHANGE_LINK_MAX_AGE,
    SIGNUP_LINK_MAX_AGE,
    EmailChangeClaim,
    email_change_token_make,
    email_change_token_read,
    signup_token_make,
)
from .zones import time_zone_names

logger = logging.getLogger(__name__)


class EmailChangeRefused(Exception):
    """The link cannot change the email; ``message`` is one of ``accounts.errors``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str,
    display_name: str = "",
    country: str = "",
    language: str = "",
    time_zone: str = "",
) -> User:
    """Create a person's account; the email is stored normalised (it is the login).

    ``language`` and ``time_zone`` are checked by the sign-up form; blank means not chosen
    (negotiated per request; the site's zone).
    """
    return User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name,
        country=country,
        language=language,
        time_zone=time_zone or settings.TIME_ZONE,
    )


def user_locale_set(*, user: User, language: str, time_zone: str | None = None) -> User:
    """Save the language (and, when given, the time zone) a person reads the product in.

    Raises ``ValueError`` for a language the product does not speak or a zone zoneinfo
    does not know: callers validate first (forms), so this is the backstop.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unsupported language: {language!r}")
    fields = ["language"]
    user.language = language
    if time_zone is not None:
        if time_zone not in time_zone_names():
            raise ValueError(f"unknown time zone: {time_zone!r}")
        user.time_zone = time_zone
        fields.append("time_zone")
    user.save(update_fields=fields)
    return user


def _hours(delta) -> int:
    return int(delta.total_seconds() // 3600)


# --- Sign-up: nobody learns from it whether an address has an account ----------------------


def recipient_language(user: User | None, language: str) -> str:
    """The language an account email is written in: the recipient account's saved language,
    else the language of the page that asked (passed to the worker, which has no request),
    else the site's."""
    chosen = (user.language if user is not None else "") or language
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def signup_email_send(*, email: str, site_url: str, language: str = "") -> str:
    """Mail a sign-up link to a new address, or a notice to the owner of an existing one.

    Returns which email went out (``"link"`` or ``"existing"``), for the log and tests only;
    never shown to the person who asked. ``language`` is the asking page's; an account's
    owner is written to in their own.
    """
    email = email_normalize(email)
    existing = selectors.user_by_email(email=email)
    if existing is not None:
        context = {
            "site_url": site_url,
            "login_url": site_url + reverse("accounts:login"),
            "reset_url": site_url + reverse("accounts:password_reset"),
        }
        with translation.override(recipient_language(existing, language)):
            message = account_email(to=existing.email, template="signup_existing", context=context)
        message.send()
        return "existing"
    path = reverse("accounts:signup_complete", args=[signup_token_make(email=email)])
    context = {
        "site_url": site_url,
        "link": site_url + path,
        "valid_hours": _hours(SIGNUP_LINK_MAX_AGE),
    }
    with translation.override(recipient_language(None, language)):
        message = account_email(to=email, template="signup_link", context=context)
    message.send()
    return "link"


# --- Password reset: Django's own form and token, sent from a worker ------------------------


def password_reset_email_send(
    *, email: str, domain: str, use_https: bool, language: str = ""
) -> int:
    """Send Django's reset email (plain text and HTML) to each active account with ``email``.

    Returns how many went out (0 or 1), for the log and tests only.
    """
    form = PasswordResetForm(data={"email": email_normalize(email)})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    # Addresses are unique (Lower(email)), so at most one account: written to in its language.
    with translation.override(recipient_language(users[0] if users else None, language)):
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
            html_email_template_name="registration/password_reset_email.html",
            extra_email_context={"site_url": f"{'https' if use_https else 'http'}://{domain}"},
        )
    return len(users)


# --- Email change: only a click on the link sent to the new address changes it --------------


def email_change_emails_send(
    *, user_id: int, new_email: str, site_url: str, language: str = ""
) -> str:
    """Mail the confirmation link to ``new_email``, or, if another account already uses it,
    tell that account's owner instead (the requester is told nothing different).

    Returns ``"link"``, ``"taken"`` or ``"gone"`` (the requester's account no longer exists).
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "gone"
    new_email = email_normalize(new_email)
    owner = selectors.user_by_email(email=new_email)
    if owner is not None and owner.pk != user.pk:
        context = {"site_url": site_url, "reset_url": site_url + reverse("accounts:password_reset")}
        with translation.override(recipient_language(owner, language)):
            message = account_email(to=owner.email, template="email_change_taken", context=context)
        message.send()
        return "taken"
    path = reverse(
        "accounts:email_change_confirm",
        args=[email_change_token_make(user=user, new_email=new_email)],
    )
    context = {
        "site_url": site_url,
        "link": site_url + path,
        "new_email": new_email,
        "valid_hours": _hours(EMAIL_CHANGE_LINK_MAX_AGE),
    }
    with translation.override(recipient_language(user, language)):
        message = account_email(to=new_email, template="email_change_link", context=context)
    message.send()
    return "link"


def email_change_claim_check(*, user: User, token: str) -> EmailChangeClaim:
    """The change an email-change link asks for, if ``user`` may still apply it; raises
    ``EmailChangeRefused`` if the link is forged, expired, used, or for another account."""
    claim = email_change_token_read(token)
    if claim is None:
        raise EmailChangeRefused(errors.LINK_INVALID)
    if claim.user_id != user.pk:
        raise EmailChangeRefused(errors.LINK_OTHER_ACCOUNT)
    if not claim.still_applies_to(user):
        raise EmailChangeRefused(errors.LINK_INVALID)
    return claim


@transaction.atomic
def email_change_confirm(*, user: User, token: str, site_url: str) -> User:
    """Apply the change the link asks for; raises ``EmailChangeRefused`` and changes nothing
    if the link is forged, expired, already used, for another account, or the address was
    taken since it was sent. The old address is told."""
    # Checked against the locked row: two clicks at once apply the change once.
    locked = User.objects.select_for_update().get(pk=user.pk)
    claim = email_change_claim_check(user=locked, token=token)
    old_email = locked.email
    locked.email = claim.new_email
    try:
        with transaction.atomic():
            locked.save(update_fields=["email"])
    except IntegrityError:
        # Another account took the address after the link was sent (the Lower(email)
        # constraint decides the race). The clicker controls that mailbox, so saying the
        # link no longer works reveals nothing they could not see in their inbox.
        raise EmailChangeRefused(errors.LINK_INVALID) from None
    with translation.override(recipient_language(locked, get_language())):
        notice = account_email(
            to=old_email,
            template="email_changed_notice",
            context={
                "site_url": site_url,
                "reset_url": site_url + reverse("accounts:password_reset"),
                "changed_at": timezone.now(),
            },
        )
    transaction.on_commit(notice.send, robust=True)
    logger.info("account email changed", extra={"user_id": locked.pk})
    user.email = locked.email
    return locked
