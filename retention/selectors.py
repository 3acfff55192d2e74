"""Reads for retention: what is held, and what a purge at T may delete."""

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from conversations.models import Conversation

from .models import Hold, RetentionRun


def hold_active_q(*, at: datetime) -> Q:
    """A hold is in force at ``at`` until released or until its end passes."""
    return Q(released_at__isnull=True) & (Q(until__isnull=True) | Q(until__gt=at))


def holds_active(*, at: datetime | None = None) -> QuerySet[Hold]:
    return Hold.objects.filter(hold_active_q(at=at or timezone.now()))


def conversation_row_unheld_q(*, at: datetime) -> Q:
    """The row's own hold fields allow deletion at ``at``.

    Held by the row: ``hold_until`` after ``at``, or a ``hold_reason`` with no end.
    """
    return Q(hold_until__lte=at) | Q(hold_until__isnull=True, hold_reason="")


def conversations_due_for_purge(
    *, cutoff: datetime, id_range: tuple[int, int] | None = None
) -> QuerySet[Conversation]:
    """Conversations a purge at ``cutoff`` deletes, in primary-key order (DESIGN §4 rule 3).

    Due: ``retain_until < cutoff``; and not held, neither by an active Hold on the
    conversation or on its user, nor by the row's hold fields.
    """
    active = holds_active(at=cutoff)
    due = (
        Conversation.objects.filter(retain_until__lt=cutoff)
        .filter(conversation_row_unheld_q(at=cutoff))
        .exclude(Exists(active.filter(conversation=OuterRef("pk"))))
        .exclude(Exists(active.filter(user=OuterRef("user_id"))))
    )
    if id_range is not None:
        due = due.filter(pk__range=id_range)
    return due.order_by("pk")


def conversation_is_held(conversation: Conversation, *, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    if (
        not Conversation.objects.filter(pk=conversation.pk)
        .filter(conversation_row_unheld_q(at=at))
        .exists()
    ):
        return True
    return (
        holds_active(at=at)
        .filter(Q(conversation_id=conversation.pk) | Q(user_id=conversation.user_id))
        .exists()
    )


def retention_runs_recent(*, limit: int = 20) -> QuerySet[RetentionRun]:
    return RetentionRun.objects.order_by("-started_at", "-pk")[:limit]
