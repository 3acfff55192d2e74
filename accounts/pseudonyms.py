"""Pseudonymous user ids: a keyed hash of the user id, with a separate key per purpose.

``salted_hmac`` derives the HMAC key from the secret and the purpose, so the pseudonyms a
training file uses and those the experiments admin shows cannot be linked to each other,
and none can be turned back into a user id without the secret. Rotating the secret
changes every pseudonym of that purpose.
"""

from django.conf import settings
from django.utils.crypto import salted_hmac


def user_pseudonym(
    user_id: int, *, purpose: str, secret: str | None = None, length: int | None = None
) -> str:
    """HMAC-SHA256 of the user id under a key derived for ``purpose``, hex, cut to ``length``."""
    digest = salted_hmac(
        purpose, str(user_id), secret=secret or settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()
    return digest[:length] if length else digest
