"""Retention: purge runs (evidence of what was deleted, when) and holds (what must not be).

DESIGN §4 rule 3: after a run at T no unheld conversation with ``retain_until < T``
remains, and none with ``retain_until >= T`` was deleted.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from . import errors


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED_LOCKED = "skipped_locked", "Skipped: another run held the lock"


class RetentionRun(models.Model):
    """One purge run, written as it goes: its counts are committed with each batch."""

    cutoff = models.DateTimeField(
        help_text="T of the run: conversations with retain_until before this were due."
    )
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    dry_run = models.BooleanField(
        default=False, help_text="Counted what was due and deleted nothing."
    )
    # A chunk run (one worker's share of a plan) covers lo <= id <= hi; a full run has neither.
    id_range_lo = models.BigIntegerField(null=True, blank=True)
    id_range_hi = models.BigIntegerField(null=True, blank=True)
    batch_size = models.PositiveIntegerField()
    max_batches = models.PositiveIntegerField()
    batches = models.PositiveIntegerField(default=0)
    conversations_deleted = models.PositiveBigIntegerField(
        default=0, help_text="In a dry run: the conversations that would have been deleted."
    )
    messages_deleted = models.PositiveBigIntegerField(default=0)
    exhausted = models.BooleanField(
        default=False,
        help_text="Every due conversation was reached; false when the run stopped at max_batches.",
    )
    error = models.TextField(blank=True, help_text="Why the run failed or was skipped.")
    worker = models.CharField(max_length=255, blank=True, help_text="host:pid that ran it.")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(id_range_lo__isnull=True, id_range_hi__isnull=True)
                    | Q(id_range_lo__lte=models.F("id_range_hi"))
                ),
                name="retention_run_id_range_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Purge run {self.pk} at {self.cutoff:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def id_range(self) -> tuple[int, int] | None:
        if self.id_range_lo is None:
            return None
        return (self.id_range_lo, self.id_range_hi)


class Hold(models.Model):
    """Staff keep one conversation, or every conversation of one user, out of the purge.

    The hold rows are the source of truth, read by the purge at run time; the
    hold services also copy the strongest active hold onto
    ``Conversation.hold_reason``/``hold_until`` so that a hold placed while a
    batch is being deleted changes the very rows the DELETE re-checks.
    """

    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="holds",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="retention_holds",
        help_text="Hold every conversation of this user, present and future.",
    )
    reason = models.CharField(max_length=200, help_text="Why, for example a case reference.")
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: until released.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("flag_safety", "Can flag conversations for safety review and clear the flag"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(conversation__isnull=False, user__isnull=True)
                    | Q(conversation__isnull=True, user__isnull=False)
                ),
                name="hold_targets_one_conversation_or_one_user",
                violation_error_message=errors.HOLD_TARGET_REQUIRED,
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(released_at__gte=models.F("created_at")),
                name="hold_released_after_created",
            ),
        ]

    def __str__(self) -> str:
        # Never the conversation's title: it is the start of the first message (content).
        target = (
            f"conversation #{self.conversation_id}"
            if self.conversation_id
            else f"user #{self.user_id}"
        )
        return f"Hold on {target}: {self.reason}"


class PurgeLock(models.Model):
    """A lease row: the one-run-at-a-time lock where PostgreSQL advisory locks are unavailable.

    On PostgreSQL the purge uses ``pg_try_advisory_lock`` instead and this table stays empty.
    """

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=255)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField(
        help_text="Renewed by every batch; a crashed holder's lease lapses."
    )

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
