"""The evidence log: an append-only Merkle tree over every decision (RFC 6962), anchored by
signed tree heads kept outside the database (DESIGN §3, §4 rule 7).

This app knows nothing of consent: a leaf covers "a kind and an id", and its hash is
whatever bytes the caller appended. Consent depends on this app, never the reverse.
"""

from datetime import UTC, datetime

from django.db import models
from django.db.models import Q


class LogEntry(models.Model):
    """One leaf. Inserted unsequenced by the writer; the sequencer fills ``leaf_index`` once."""

    kind = models.CharField(max_length=40, help_text="What the leaf covers, e.g. consent.record.")
    object_id = models.CharField(max_length=64, help_text="The covered object's id.")
    leaf_hash = models.CharField(max_length=64, help_text="SHA-256(0x00 || leaf data), hex.")
    leaf_index = models.BigIntegerField(
        null=True, blank=True, unique=True, help_text="Position in the tree; set by the sequencer."
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "log entries"
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="one_leaf_per_object"),
            models.CheckConstraint(condition=Q(leaf_index__gte=0), name="leaf_index_not_negative"),
        ]
        indexes = [
            # The sequencer's queue: only the few entries not yet in the tree.
            models.Index(
                fields=["id"], condition=Q(leaf_index__isnull=True), name="logentry_unsequenced"
            )
        ]

    def __str__(self) -> str:
        where = "unsequenced" if self.leaf_index is None else f"leaf {self.leaf_index}"
        return f"{self.kind} {self.object_id} ({where})"


class SequencerState(models.Model):
    """The tree as the sequencer last left it: its size and right edge (compact range).

    One row, locked by each sequencer step. A cache for O(new entries) appends, never
    evidence: verification recomputes the tree from the leaves and the signed heads.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    tree_size = models.BigIntegerField(default=0)
    frontier = models.JSONField(default=list, help_text="Hex hashes of the compact range.")
    root_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="one_sequencer_state")]

    def __str__(self) -> str:
        return f"tree of {self.tree_size} leaves"


# Nodes are kept from this level up (subtrees of 16 leaves or more): an inclusion proof
# then reads O(log n) nodes and at most two runs of fewer than 16 leaves, while the table
# holds one row per 8 leaves instead of one per leaf.
NODE_LEVEL_MIN = 4


class TreeNode(models.Model):
    """The root of one perfect subtree of the log: the 2**level leaves from
    ``index * 2**level``. The sequencer writes each as it completes, in the transaction
    that sequences its last leaf; a complete subtree never changes, so the table is
    append-only. A cache for O(log n) inclusion proofs, never evidence:
    ``manage.py verify_evidence`` recomputes every node from the records and compares."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64, help_text="The subtree's root, hex.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="one_node_per_position"),
            models.CheckConstraint(
                condition=Q(level__gte=NODE_LEVEL_MIN, index__gte=0), name="stored_node_levels"
            ),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class SignedTreeHead(models.Model):
    """A checkpoint: the tree's size and root, signed with Ed25519. Append-only, and also
    written to the external sink (``EVIDENCE_SINK_STORAGE``) the database cannot rewrite."""

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.CharField(max_length=64)
    timestamp_ms = models.BigIntegerField(help_text="Milliseconds since the Unix epoch, UTC.")
    key_id = models.CharField(max_length=64, help_text="SHA-256 of the raw Ed25519 public key.")
    signature = models.CharField(max_length=128, help_text="Ed25519 signature, base64.")
    sink_name = models.CharField(max_length=200, help_text="The head's file in the sink.")

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"tree head {self.tree_size} ({self.root_hash[:12]}…)"

    @property
    def signed_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)


class VerificationRun(models.Model):
    """One run of ``manage.py verify_evidence`` (or its daily beat task), for admin."""

    class Status(models.TextChoices):
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    records_checked = models.PositiveIntegerField(default=0)
    heads_checked = models.PositiveIntegerField(default=0)
    finding_count = models.PositiveIntegerField(default=0)
    findings = models.JSONField(default=list, help_text="The first findings, one line each.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"verification {self.started_at:%Y-%m-%d %H:%M} {self.status}"
