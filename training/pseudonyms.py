"""The pseudonymous user id written into training files and the withdrawals feed."""

from django.conf import settings

from accounts.pseudonyms import user_pseudonym as pseudonym

PSEUDONYM_SALT = "training.pseudonym"


def user_pseudonym(user_id: int) -> str:
    """The stable pseudonymous id of a user in training files: HMAC-SHA256 of the id.

    Keyed by ``TRAINING_PSEUDONYM_KEY`` (falling back to ``SECRET_KEY``); ``salted_hmac``
    derives a purpose-specific key, so the raw secret is never the HMAC key. Rotating the
    key changes every pseudonym, which unlinks users across snapshots.
    """
    secret = getattr(settings, "TRAINING_PSEUDONYM_KEY", "") or settings.SECRET_KEY
    return pseudonym(user_id, purpose=PSEUDONYM_SALT, secret=secret)
