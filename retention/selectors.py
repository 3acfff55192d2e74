"""Reads for retention: what is held, and what a purge at T may delete."""

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from conversations.models import Conversation

from .models import Hold


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


def conversation_unheld_q(*, at: datetime) -> Q:
    """No hold keeps the conversation at ``at``: neither its row's hold fields, nor an
    active Hold on the conversation, nor an active Hold on its user.

    The one hold rule: the purge, the owner's delete and account deletion all use it; the
    purge's set-based DELETE repeats it in SQL (``services._conversations_delete_returning``,
    pinned to this by tests/retention/test_purge_rule_equivalence.py).
    """
    active = holds_active(at=at)
    return (
        conversation_row_unheld_q(at=at)
        & ~Exists(active.filter(conversation=OuterRef("pk")))
        & ~Exists(active.filter(user=OuterRef("user_id")))
    )


def conversations_due_for_purge(
    *, cutoff: datetime, id_range: tuple[int, int] | None = None
) -> QuerySet[Conversation]:
    """Conversations a purge at ``cutoff`` deletes, in primary-key order (DESIGN §4 rule 3).

    Due: ``retain_until < cutoff`` and ``conversation_unheld_q``.
    """
    due = Conversation.objects.filter(retain_until__lt=cutoff).filter(
        conversation_unheld_q(at=cutoff)
    )
    if id_range is not None:
        due = due.filter(pk__range=id_range)
    return due.order_by("pk")


def conversation_is_held(conversation: Conversation, *, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return (
        not Conversation.objects.filter(pk=conversation.pk)
        .filter(conversation_unheld_q(at=at))
        .exists()
    )
