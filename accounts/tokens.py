"""Signed, time-limited links sent by email (sign-up, email change).

Both are stateless: ``django.core.signing`` (HMAC with SECRET_KEY, a salt per purpose and a
timestamp) makes them unforgeable and lets them expire. An email-change link also carries a
digest of the account's current email and password hash, so it stops working once it has
been used (the email changed) or the password changed, as Django's password-reset tokens do.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SIGNUP_SALT = "accounts.signup"
EMAIL_CHANGE_SALT = "accounts.email_change"
SIGNUP_LINK_MAX_AGE = timedelta(days=1)
EMAIL_CHANGE_LINK_MAX_AGE = timedelta(days=1)


def signup_token_make(*, email: str) -> str:
    return signing.dumps({"email": email}, salt=SIGNUP_SALT, compress=True)


def signup_token_read(token: str) -> str | None:
    """The address the sign-up link was sent to, or None if forged, altered or expired."""
    try:
        payload = signing.loads(token, salt=SIGNUP_SALT, max_age=SIGNUP_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    email = payload.get("email") if isinstance(payload, dict) else None
    return email if isinstance(email, str) else None


def _account_state(user) -> str:
    return salted_hmac(EMAIL_CHANGE_SALT, f"{user.email}\x00{user.password}").hexdigest()[:32]


@dataclass(frozen=True)
class EmailChangeClaim:
    user_id: int
    new_email: str
    account_state: str

    def still_applies_to(self, user) -> bool:
        """False once the account's email or password changed since the link was made."""
        return user.pk == self.user_id and constant_time_compare(
            self.account_state, _account_state(user)
        )


def email_change_token_make(*, user, new_email: str) -> str:
    payload = {"user": user.pk, "email": new_email, "state": _account_state(user)}
    return signing.dumps(payload, salt=EMAIL_CHANGE_SALT, compress=True)


def email_change_token_read(token: str) -> EmailChangeClaim | None:
    try:
        payload = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_LINK_MAX_AGE)
        return EmailChangeClaim(
            user_id=int(payload["user"]),
            new_email=str(payload["email"]),
            account_state=str(payload["state"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
