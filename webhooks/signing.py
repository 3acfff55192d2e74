"""Signing secrets (generated in the Standard Webhooks format, stored encrypted) and signing.

Signing (HMAC-SHA256) needs the secret itself, so a hash would be useless: the secret is
encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under a key derived with
HKDF from ``WEBHOOKS_SECRET_KEY`` (or ``SECRET_KEY`` when that is empty). A database dump
alone therefore reveals no secret; the key lives in the environment, not the database.
Rotating the key means re-encrypting or rotating every subscriber's secret.
"""

import base64
import secrets as random_source

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 bytes of randomness
_KDF_INFO = b"consentgate webhooks signing-secret encryption v1"


def secret_generate() -> str:
    """A fresh secret as subscribers paste it into their verifier: ``whsec_`` + base64."""
    return SECRET_PREFIX + base64.b64encode(random_source.token_bytes(SECRET_BYTES)).decode()


def _fernet() -> Fernet:
    master = (settings.WEBHOOKS_SECRET_KEY or settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(master)
    return Fernet(base64.urlsafe_b64encode(key))


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def signature_headers(*, secret: str, event_id: str, body: str, timestamp) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt, signed by the library itself."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=event_id, timestamp=timestamp, data=body),
    }
