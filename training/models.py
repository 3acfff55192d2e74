"""Training snapshots and the ledger of what went into them (DESIGN §3, §4 rule 1).

Both tables are append-only below the ORM (``consent.db.append_only_operations``): a
snapshot row is written once, in the same transaction as its ledger rows and only after
its file is complete, so there is no half-built state to update later. "Used in
training" cannot be undone, so neither row can be.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact


class TrainingSnapshot(models.Model):
    """One export: a JSON Lines file of redacted, eligible conversations."""

    # Idempotency key: a rerun with the same key returns this snapshot instead of
    # exporting again (a redelivered Celery task reuses its task id as the key).
    snapshot_key = models.CharField(max_length=64, unique=True)
    policy = models.ForeignKey("consent.Policy", on_delete=models.PROTECT, related_name="+")
    # The export time: eligibility was decided as of this instant.
    created_at = models.DateTimeField(db_index=True)
    # Staff accounts are deactivated or pseudonymised, never deleted, so PROTECT never bites
    # in practice; SET_NULL would need an UPDATE the append-only trigger refuses.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    conversation_count = models.PositiveIntegerField()
    message_count = models.PositiveIntegerField()
    # Unique: a snapshot's file is its evidence, so no later export may overwrite it.
    file_name = models.CharField(
        max_length=500, unique=True, help_text="Where the file was written."
    )
    file_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    redaction_version = models.CharField(max_length=20)
    redaction_counts = models.JSONField(
        default=dict, blank=True, help_text="Findings replaced, per kind, over the whole file."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("export_trainingsnapshot", "Can start a training snapshot export")]
        constraints = [
            # A snapshot row exists only with its file's digest (written in one transaction).
            models.CheckConstraint(
                condition=Exact(Length("file_sha256"), 64), name="snapshot_has_file_digest"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How people see the snapshot: in admin and in a user's privacy settings."""
        return f"Snapshot {self.pk} ({self.created_at:%Y-%m-%d})"


class TrainingUse(models.Model):
    """One conversation in one snapshot: the permanent answer to "was this used?".

    No foreign key to the conversation or the user: the row must outlive a deleted
    conversation, and a deleted account is pseudonymised, never removed.

    ``conversation_title`` is the title as exported, i.e. cut from the *redacted* first
    message: the row is immutable and kept after the account is deleted, so it must not
    keep anything the training file itself does not already hold.
    """

    snapshot = models.ForeignKey(TrainingSnapshot, on_delete=models.PROTECT, related_name="uses")
    conversation_id = models.BigIntegerField(db_index=True)
    user_id = models.BigIntegerField(db_index=True)
    # The opt-in record that covered the conversation's last activity before export.
    consent_record = models.ForeignKey(
        "consent.ConsentRecord", on_delete=models.PROTECT, related_name="training_uses"
    )
    content_sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the conversation's line in the snapshot file."
    )
    conversation_title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "conversation_id"], name="one_use_per_conversation_per_snapshot"
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} in snapshot {self.snapshot_id}"

    @property
    def snapshot_label(self) -> str:
        return self.snapshot.label
