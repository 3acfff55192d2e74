"""A person's own data: download all of it (GDPR Art. 15/20), delete the account (Art. 17).

Deleting an account deletes its conversations and messages at once. What stays is what
the law requires as proof, pseudonymised: the user row (email replaced, name and country
cleared, no password, inactive) so that the consent records (Art. 7(1)) and the training
ledger (what was used cannot be undone) keep pointing at one anonymous id.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from consent.models import DeadlineReminder, Lockout, NoticeDeferral
from consent.receipts import receipt_build
from consent.selectors import consent_records_for, consent_state_for
from conversations.models import Conversation, Message
from experiments.models import Assignment, Exposure
from retention.selectors import conversation_unheld_q
from webhooks.models import EventType
from webhooks.services import event_record, subject_for

from .selectors import training_uses_for

EXPORT_FORMAT = "consent-gate personal data export, version 1"


def pseudonymous_email(user_id: int) -> str:
    # ".invalid" is reserved (RFC 2606): mail to it can never reach anyone.
    return f"deleted-{user_id}@invalid"


# --- Download my data ------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _conversations(user) -> list[dict]:
    conversations: dict[int, dict] = {}
    # What the owner sees: a conversation they deleted that a legal hold keeps is left out.
    visible = Conversation.objects.filter(user=user, deleted_by_user_at__isnull=True)
    for conversation in visible.order_by("created_at", "pk"):
        conversations[conversation.pk] = {
            "id": conversation.pk,
            "title": conversation.title,
            "created_at": _iso(conversation.created_at),
            "last_activity_at": _iso(conversation.last_activity_at),
            "kept_until": _iso(conversation.retain_until),
            # Temporary chats are the owner's data like any other: included, and marked.
            "is_temporary": conversation.is_temporary,
            "covered_by_consent_record_id": (
                str(conversation.covered_by_id) if conversation.covered_by_id else None
            ),
            "messages": [],
        }
    messages = (
        Message.objects.filter(conversation__in=visible)
        .order_by("conversation_id", "created_at", "pk")
        .values_list("conversation_id", "role", "content", "created_at")
    )
    for conversation_id, role, content, created_at in messages.iterator(chunk_size=2000):
        conversations[conversation_id]["messages"].append(
            {"role": role, "content": content, "created_at": _iso(created_at)}
        )
    return list(conversations.values())


def _notices(user) -> dict:
    """What the product did around the decision: "Not now"s, reminder emails, lockouts."""
    return {
        "not_now": [
            {
                "policy_version": deferral.policy.version,
                "at": _iso(deferral.deferred_at),
                "notice_hidden_until": _iso(deferral.hidden_until),
            }
            for deferral in NoticeDeferral.objects.filter(user=user)
            .select_related("policy")
            .order_by("deferred_at")
        ],
        "reminders": [
            {
                "policy_version": reminder.policy.version,
                "kind": reminder.get_kind_display(),
                "sent_at": _iso(reminder.sent_at),
            }
            for reminder in DeadlineReminder.objects.filter(user=user)
            .select_related("policy")
            .order_by("sent_at")
        ],
        "lockouts": [
            {
                "policy_version": lockout.policy.version,
                "locked_at": _iso(lockout.locked_at),
                "unlocked_at": _iso(lockout.resolved_at),
            }
            for lockout in Lockout.objects.filter(user=user)
            .select_related("policy")
            .order_by("locked_at")
        ],
    }


def _experiments(user) -> list[dict]:
    """Which pop-up design each experiment gave the person, and when it was first shown."""
    shown = {
        (exposure.experiment_id, exposure.phase): exposure.exposed_at
        for exposure in Exposure.objects.filter(user=user)
    }
    return [
        {
            "experiment": assignment.experiment.name,
            "phase": assignment.phase,
            "design": assignment.arm.variant.name,
            "assigned_at": _iso(assignment.assigned_at),
            "first_shown_at": _iso(shown.get((assignment.experiment_id, assignment.phase))),
        }
        for assignment in Assignment.objects.filter(user=user)
        .select_related("experiment", "arm__variant")
        .order_by("assigned_at", "pk")
    ]


def personal_data_for(user, *, now: datetime | None = None) -> dict:
    """Everything stored about the user, as one JSON-ready document."""
    state = consent_state_for(user)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(now or timezone.now()),
        "profile": {
            "id": user.pk,
            "email": user.email,
            "display_name": user.display_name,
            "country": user.country or None,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "consent": {
            "current": (
                {
                    "policy_version": state.policy.version,
                    "choice": state.choice,
                    "decided_at": _iso(state.decided_at),
                    "record_id": str(state.latest_record_id),
                }
                if state
                else None
            ),
            # Oldest first: the order in which the hash chain links them.
            "records": [receipt_build(record) for record in consent_records_for(user).reverse()],
            **_notices(user),
        },
        "experiments": _experiments(user),
        "conversations": _conversations(user),
        "training_uses": [
            {
                "conversation_id": use.conversation_id,
                "conversation_title": use.conversation_title,
                "snapshot": use.snapshot_label,
                "used_at": _iso(use.created_at),
            }
            for use in training_uses_for(user)
        ],
    }


# --- Delete my account -----------------------------------------------------------------


@dataclass(frozen=True)
class AccountDeletion:
    conversations_deleted: int
    messages_deleted: int
    # Under a legal hold (retention.Hold): kept until the hold ends, then purged.
    conversations_held: int


def _deletable_conversations(user, *, now: datetime) -> QuerySet[Conversation]:
    """The user's conversations no hold keeps (the purge's own hold rule)."""
    return Conversation.objects.filter(user=user).filter(conversation_unheld_q(at=now))


def _login_records_forget(email: str) -> None:
    """django-axes keeps the login name of every attempt; a deleted account leaves none."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=email).delete()


@transaction.atomic
def user_account_delete(*, user, now: datetime | None = None) -> AccountDeletion:
    """Delete the user's conversations and messages now and pseudonymise the account.

    Consent records, the consent state and the training ledger stay: they are the proof
    the law requires, and they point at the user row only by id. A conversation under a
    legal hold is the one exception (GDPR Art. 17(3)(e)): it stays until the hold ends,
    hidden, with ``retain_until`` set to now so that the first purge after the hold deletes it.
    Ending sessions: the password hash changes (unusable), which invalidates every
    session's auth hash, and an inactive user is refused by the auth backend.
    """
    now = now or timezone.now()
    User = get_user_model()
    # Same lock order as consent decisions: the user row first.
    user = User.objects.select_for_update().get(pk=user.pk)
    deletable = _deletable_conversations(user, now=now)
    messages_deleted, _ = Message.objects.filter(conversation__in=deletable.values("pk")).delete()
    _, per_model = deletable.delete()
    conversations_deleted = per_model.get(Conversation._meta.label, 0)
    # What a hold keeps is hidden as the owner's own delete hides it (conversation_delete).
    conversations_held = Conversation.objects.filter(user=user).update(
        retain_until=now, deleted_by_user_at=now
    )

    _login_records_forget(user.email)
    user.email = pseudonymous_email(user.pk)
    user.display_name = ""
    user.country = ""
    user.set_unusable_password()
    user.is_active = False
    user.pseudonymised_at = now
    user.save(
        update_fields=[
            "email",
            "display_name",
            "country",
            "password",
            "is_active",
            "pseudonymised_at",
        ]
    )
    # Downstream systems delete their copies too (webhooks outbox, this transaction).
    event_record(
        type=EventType.ACCOUNT_DELETED,
        user_id=user.pk,
        record_id=subject_for(user.pk),
        occurred_at=now,
        data={
            "conversations_deleted": conversations_deleted,
            "conversations_held": conversations_held,
        },
    )
    return AccountDeletion(
        conversations_deleted=conversations_deleted,
        messages_deleted=messages_deleted,
        conversations_held=conversations_held,
    )
