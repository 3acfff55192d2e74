"""The outbox (Event), the systems told about it (Subscriber) and each telling (Delivery).

An Event row is written in the transaction that makes the change it reports (the
transactional outbox): no change commits without its event, no event without its change.
Events are ordered per user by ``sequence``, allocated from ``SubjectSequence`` under that
row's lock, so a user's sequence order is their events' commit order. A relay fans each
event out into one Delivery per subscriber that wants its type; workers deliver them
(Standard Webhooks) in sequence order per user and subscriber.

The webhooks app sits below consent, conversations, retention and training: they call
``webhooks.services.event_record`` and it imports none of them. Record ids are therefore
plain strings, not foreign keys: an event outlives what it reports (a deleted
conversation, a deleted account).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class EventType(models.TextChoices):
    CONSENT_DECIDED = "consent.decided", "Consent decided (opt-in, opt-out, withdrawal)"
    CONSENT_LOCKOUT = "consent.lockout", "Undecided at the deadline: locked out"
    CONVERSATION_DELETED = "conversation.deleted", "Conversation deleted"
    ACCOUNT_DELETED = "account.deleted", "Account deleted"
    HOLD_PLACED = "hold.placed", "Legal hold placed"
    HOLD_RELEASED = "hold.released", "Legal hold released"
    SNAPSHOT_CREATED = "snapshot.created", "Training snapshot written"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    FAILED = "failed", "Failed, retrying"
    DELIVERED = "delivered", "Delivered"
    DEAD_LETTERED = "dead_lettered", "Dead-lettered"


# A delivery in one of these states still has to happen; later events of the same user wait.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class SubscriberStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class SubjectSequence(models.Model):
    """The last sequence number given to one user's events; its row lock orders them."""

    subject = models.CharField(max_length=64, primary_key=True)
    last = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.subject}: {self.last}"


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    schema_version = models.PositiveSmallIntegerField(default=1)
    subject = models.CharField(
        max_length=64, help_text="The user's pseudonym (keyed hash), never their id or email."
    )
    sequence = models.BigIntegerField(help_text="Order of this user's events, from 1.")
    record_id = models.CharField(max_length=64, help_text="The id of the record the event reports.")
    # The same id as a UUID when it is one (consent records), so a record's admin can join on it.
    record_uuid = models.UUIDField(null=True, blank=True, editable=False)
    occurred_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    # Relay bookkeeping: when deliveries were created for it (null: not yet).
    fanned_out_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "sequence"], name="webhooks_event_order"),
            # One event per change and person: a repeated emission is ignored. (A snapshot
            # is one record reported to each person in it.)
            models.UniqueConstraint(
                fields=["type", "record_id", "subject"], name="webhooks_event_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subject", "sequence"],
                condition=Q(fanned_out_at__isnull=True),
                name="webhooks_event_unrelayed",
            ),
            models.Index(fields=["record_uuid"], name="webhooks_event_record_uuid"),
            models.Index(fields=["occurred_at"], name="webhooks_event_occurred"),
        ]
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Subscriber(models.Model):
    """A downstream system told about events: where, which types, and the signing secret."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(
        max_length=500, help_text="An https (or http) endpoint that accepts POST."
    )
    event_types = models.JSONField(default=list, help_text="The event types it receives.")
    # Fernet ciphertext of the Standard Webhooks secret (webhooks.secrets): signing needs
    # the secret itself, so it cannot be stored as a hash.
    secret_encrypted = models.TextField(editable=False)
    status = models.CharField(
        max_length=10, choices=SubscriberStatus.choices, default=SubscriberStatus.ACTIVE
    )
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    pause_reason = models.CharField(max_length=300, blank=True, editable=False)
    # Start of the current run of failed attempts (null after any success).
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["name"]
        permissions = [("replay_delivery", "Can replay webhook deliveries")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == SubscriberStatus.ACTIVE

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types


class Delivery(models.Model):
    """One event to one subscriber: its attempts and where it ended."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    # Deliveries are the proof of propagation: a subscriber with any is paused, not deleted.
    subscriber = models.ForeignKey(Subscriber, on_delete=models.PROTECT, related_name="deliveries")
    # Copied from the event so the per-user order is one index away.
    subject = models.CharField(max_length=64)
    sequence = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_lettered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=256, blank=True)
    last_error = models.CharField(max_length=256, blank=True)
    # A worker holds the delivery until then; a killed worker's lease simply runs out.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "event"], name="webhooks_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["subscriber", "subject", "sequence"],
                condition=Q(status__in=OPEN_STATUSES),
                name="webhooks_delivery_open_lane",
            ),
            models.Index(
                fields=["subscriber", "next_attempt_at"],
                condition=Q(status__in=OPEN_STATUSES),
                name="webhooks_delivery_due",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.subscriber_id}: {self.status}"
