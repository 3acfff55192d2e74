"""Writes for the consent API: issuing and revoking service tokens, noting their use."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import ServiceToken
from .tokens import PREFIX_LENGTH, token_digest, token_generate

# last_used_at is written at most this often per token: a write per API call would cost more
# than the call, and "used in the last minute" is as precise as an admin needs.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ServiceToken
    secret: str  # shown once to the admin who issued it; only its digest is stored


@transaction.atomic
def service_token_issue(*, name: str, created_by=None) -> IssuedToken:
    secret = token_generate()
    token = ServiceToken.objects.create(
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        secret_sha256=token_digest(secret),
        created_at=timezone.now(),
        created_by=created_by,
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def service_token_revoke(*, token: ServiceToken, revoked_by=None) -> ServiceToken:
    """Revoke at once; revoking a revoked token changes nothing (the first revocation stands)."""
    now = timezone.now()
    ServiceToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=revoked_by
    )
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return token


def service_token_mark_used(*, token: ServiceToken, now: datetime | None = None) -> None:
    """One conditional UPDATE, and only if the stored time is older than the resolution."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ServiceToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now
