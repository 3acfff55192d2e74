"""Training snapshots and the ledger of what went into them (DESIGN §3, §4 rule 1).

``TrainingSnapshot`` and ``TrainingUse`` are append-only below the ORM
(``consent.db.append_only_operations``): a snapshot row is written once, in the same
transaction as its ledger rows and only after every shard file is complete, so there is
no half-built state to update later. "Used in training" cannot be undone, so neither row
can be.

The work of building one lives in mutable coordinator rows: ``SnapshotExport`` (one
planned export) and ``SnapshotShard`` (one id range any Celery worker can take), with
``ShardEntry`` holding a finished shard's ledger-to-be until the export is finalised.
``ConversationErasure`` remembers when a conversation that is in the ledger was deleted
by its owner: the conversation row is gone, and the withdrawals feed needs the instant.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact


class TrainingSnapshot(models.Model):
    """One finished export: a manifest of shard files of redacted, eligible conversations."""

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
        max_length=500, unique=True, help_text="The manifest's name in the export storage."
    )
    file_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the manifest's bytes.")
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
        max_length=64, help_text="SHA-256 of the conversation's line in its shard file."
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


class ExportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ShardStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class ShardFormat(models.TextChoices):
    JSONL_GZ = "jsonl.gz", "JSON Lines, gzip"
    PARQUET = "parquet", "Parquet (needs pyarrow)"


class SnapshotExport(models.Model):
    """One planned export: its shards, its progress and, once finalised, its snapshot."""

    snapshot_key = models.CharField(max_length=64, unique=True)
    # The policy in effect when the export was planned; every shard and the finalising
    # step check that it is still the live one, else the export fails.
    policy = models.ForeignKey("consent.Policy", on_delete=models.PROTECT, related_name="+")
    planned_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.RUNNING
    )
    file_format = models.CharField(
        max_length=10, choices=ShardFormat.choices, default=ShardFormat.JSONL_GZ
    )
    # Blank: the TRAINING_EXPORT_STORAGE storage. Else a directory on this machine
    # (``export_training_snapshot --out``), for inline runs.
    location = models.CharField(max_length=500, blank=True)
    manifest_name = models.CharField(max_length=500)
    shard_count = models.PositiveIntegerField()
    snapshot = models.OneToOneField(
        TrainingSnapshot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="export",
    )
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-planned_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=ExportStatus.DONE) | models.Q(snapshot__isnull=False),
                name="done_export_has_snapshot",
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.snapshot_key}"


class SnapshotShard(models.Model):
    """Conversations with ``lower_id < id <= upper_id`` of one export: one task, one file.

    Only the committed (``file_name``, ``file_sha256``) counts: an attempt that died before
    committing left at most a file under its own attempt's name, which nothing lists.
    """

    export = models.ForeignKey(SnapshotExport, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    lower_id = models.BigIntegerField()
    upper_id = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=ShardStatus.choices, default=ShardStatus.PENDING
    )
    attempt = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=500, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    conversation_count = models.PositiveIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    redaction_counts = models.JSONField(default=dict, blank=True)
    # When a task for it was last sent: a shard no worker took within the lease is sent
    # again (a message lost with a broker restart, a worker killed before acking).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When the committed attempt last checked eligibility: the export time of its rows.
    checked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["export", "index"]
        constraints = [
            models.UniqueConstraint(fields=["export", "index"], name="one_shard_per_index"),
            models.CheckConstraint(
                condition=models.Q(lower_id__lt=models.F("upper_id")), name="shard_range_not_empty"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ShardStatus.DONE) | Exact(Length("file_sha256"), 64),
                name="done_shard_has_digest",
            ),
        ]
        indexes = [models.Index(fields=["export", "status"])]

    def __str__(self) -> str:
        return f"shard {self.index} of {self.export_id}"


class ShardEntry(models.Model):
    """One line of a finished shard: the ledger row it becomes when the export finalises."""

    shard = models.ForeignKey(SnapshotShard, on_delete=models.CASCADE, related_name="entries")
    conversation_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    consent_record_id = models.UUIDField()
    content_sha256 = models.CharField(max_length=64)
    conversation_title = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shard", "conversation_id"], name="one_entry_per_conversation_per_shard"
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} in {self.shard}"


class ConversationErasure(models.Model):
    """When the owner deleted a conversation that some snapshot used (append-only)."""

    conversation_id = models.BigIntegerField(unique=True)
    user_id = models.BigIntegerField()
    erased_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} erased"
