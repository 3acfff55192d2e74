"""Per-service API tokens: only a SHA-256 digest of the secret is stored, never the secret."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Scope(models.TextChoices):
    # Read-only is the only scope there is: the API answers questions, it records nothing.
    CONSENT_READ = "consent:read", "Read consent state, receipts and training eligibility"


class ServiceToken(models.Model):
    """One downstream service's bearer token. Revoked, never deleted (it is an audit trail)."""

    name = models.CharField(max_length=100, help_text="Which service holds it, e.g. 'trainer'.")
    # The first characters of the token, shown in admin so a leaked token can be identified.
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    secret_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(
        max_length=20, choices=Scope.choices, default=Scope.CONSENT_READ, editable=False
    )
    created_at = models.DateTimeField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="consent:read"), name="service_token_read_only"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="service_token_revoked_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
