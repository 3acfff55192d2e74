"""The Ed25519 key that signs tree heads. It never lives in the database.

Where it comes from (one of, in this order):
- ``EVIDENCE_SIGNING_KEY``: the key itself, PEM or 32 raw bytes in base64 (an environment
  variable filled from a secret store);
- ``EVIDENCE_SIGNING_KEY_FILE``: a file holding the same (a mounted secret);
- development and demo only (``EVIDENCE_SIGNING_KEY_AUTOGENERATE``): a key generated on
  first use under ``var/``, announced in the log. Production settings refuse to start
  without one of the first two.

Older keys stay verifiable through ``EVIDENCE_TRUSTED_PUBLIC_KEYS`` after a rotation.
"""

import base64
import binascii
import hashlib
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import errors

logger = logging.getLogger(__name__)

_loaded: dict[tuple, Ed25519PrivateKey] = {}


def _parse_private(material: bytes) -> Ed25519PrivateKey:
    text = material.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(text, password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ImproperlyConfigured(errors.SIGNING_KEY_UNREADABLE) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(errors.SIGNING_KEY_UNREADABLE)
    return key


def _generated_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return _parse_private(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not each write (and use) their own key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _parse_private(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    logger.warning(
        "generated a development evidence signing key at %s (key id %s); "
        "set EVIDENCE_SIGNING_KEY_FILE for anything real",
        path,
        key_id(public_raw(key.public_key())),
    )
    return key


def signing_key() -> Ed25519PrivateKey:
    inline = settings.EVIDENCE_SIGNING_KEY
    path = settings.EVIDENCE_SIGNING_KEY_FILE
    generate = settings.EVIDENCE_SIGNING_KEY_AUTOGENERATE
    cache_key = (inline, path, generate and str(settings.EVIDENCE_GENERATED_KEY_FILE))
    if cache_key not in _loaded:
        if inline:
            key = _parse_private(inline.encode())
        elif path:
            key = _parse_private(Path(path).read_bytes())
        elif generate:
            key = _generated_key(Path(settings.EVIDENCE_GENERATED_KEY_FILE))
        else:
            raise ImproperlyConfigured(errors.SIGNING_KEY_MISSING)
        _loaded[cache_key] = key
    return _loaded[cache_key]


def public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()


def trusted_public_keys() -> dict[str, bytes]:
    """Key id -> raw public key, for every key whose heads verification accepts."""
    raws = [public_raw(signing_key().public_key())]
    for text in settings.EVIDENCE_TRUSTED_PUBLIC_KEYS:
        try:
            raw = base64.b64decode(text, validate=True)
            Ed25519PublicKey.from_public_bytes(raw)
        except (ValueError, binascii.Error) as exc:
            raise ImproperlyConfigured(errors.TRUSTED_KEY_UNREADABLE) from exc
        raws.append(raw)
    return {key_id(raw): raw for raw in raws}
