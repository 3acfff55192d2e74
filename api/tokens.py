"""How a service token looks and how it is digested; shared by services and selectors."""

import hashlib
import secrets

TOKEN_LABEL = "cgk_"  # recognisable in logs and by secret scanners
PREFIX_LENGTH = len(TOKEN_LABEL) + 8


def token_generate() -> str:
    return TOKEN_LABEL + secrets.token_urlsafe(32)  # 256 bits of randomness


def token_digest(secret: str) -> str:
    """SHA-256 suffices (no salt, no stretching): the secret is random, not a password."""
    return hashlib.sha256(secret.encode()).hexdigest()
