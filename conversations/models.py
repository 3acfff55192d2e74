from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    # The opt-in record in force at the last activity; null when the user was not opted in.
    covered_by = models.ForeignKey(
        "consent.ConsentRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="covered_conversations",
    )
    retain_until = models.DateTimeField(db_index=True)
    hold_reason = models.CharField(max_length=200, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    safety_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by staff or the safety classifier: kept longer."
    )
    # When the safety classifier last read it: activity after this is still unchecked,
    # which the sweep catches up on (e.g. after a broker outage lost the enqueued check).
    safety_checked_at = models.DateTimeField(null=True, blank=True)
    # A legal hold outranks the owner's delete: the conversation disappears for them at
    # once (and from training) but its rows stay until the hold ends and a purge runs.
    deleted_by_user_at = models.DateTimeField(null=True, blank=True)
    # Started as a temporary chat (DESIGN §4 rule 8): never covered, so never used for
    # training whatever the owner chooses, and kept only the opt-out period. Fixed at start.
    is_temporary = models.BooleanField("temporary chat", default=False)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [models.Index(fields=["user", "-last_activity_at"])]
        constraints = [
            # The database refuses what a second code path might try: covering a
            # temporary chat would make it eligible for training and keep it 5 years.
            models.CheckConstraint(
                condition=Q(is_temporary=False) | Q(covered_by__isnull=True),
                name="temporary_conversation_never_covered",
            )
        ]

    def __str__(self) -> str:
        # Never the title: it is the start of the first message, i.e. content, and admin
        # (autocomplete, breadcrumbs, logs, deletion summaries) prints str() to any staff.
        return f"Conversation #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("conversations:detail", kwargs={"conversation_id": self.pk})


class Role(models.TextChoices):
    USER = "user", "You"
    ASSISTANT = "assistant", "Assistant"


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        # Metadata only: str() reaches admin pages and logs, content must not.
        return f"Message #{self.pk} ({self.role}) in conversation #{self.conversation_id}"
