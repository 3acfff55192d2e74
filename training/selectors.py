"""Reads for training: what may go into a snapshot, and what already went in."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from consent.models import Choice
from consent.selectors import current_policy
from conversations.models import Conversation

from .models import TrainingUse


def eligible_conversations(*, now: datetime) -> QuerySet[Conversation]:
    """Conversations a snapshot taken at ``now`` may include (DESIGN §4 rule 1).

    The owner's current choice is opt-in under the current policy, the conversation's
    last activity was covered by that same unbroken opt-in run (``covered_by`` decided on
    or after ``opt_in_since``: the coverage rule ``conversation_retention_recompute_for_user``
    uses too), it exists, and its owner has not been pseudonymised. One SQL query of joins;
    a conversation from before the opt-in, or covered by an earlier run that an opt-out
    broke, stays out until it is reopened. (``covered_by`` is always the owner's own record,
    set from their state on every activity, so no separate same-user join is needed; that
    join also misled PostgreSQL into a per-user scan of every record before the first ANALYZE.)
    """
    policy = current_policy(now=now)
    if policy is None:
        return Conversation.objects.none()
    return Conversation.objects.filter(
        deleted_by_user_at__isnull=True,
        user__pseudonymised_at__isnull=True,
        user__consent_state__policy=policy,
        user__consent_state__choice=Choice.OPT_IN,
        covered_by__decided_at__gte=F("user__consent_state__opt_in_since__decided_at"),
    )


@dataclass(frozen=True)
class TrainingUseView:
    """One line of a user's "used in training" list."""

    conversation_id: int
    conversation_title: str
    snapshot_label: str
    created_at: datetime


def training_uses_for(user) -> Iterator[TrainingUseView]:
    """The user's ledger rows, newest first.

    The title is the conversation's own while it exists, else the title as exported
    (redacted): the ledger outlives the conversation.
    """
    live_title = Conversation.objects.filter(
        pk=OuterRef("conversation_id"), user_id=OuterRef("user_id")
    ).values("title")[:1]
    uses = (
        TrainingUse.objects.filter(user_id=user.pk)
        .select_related("snapshot")
        .annotate(shown_title=Coalesce(Subquery(live_title), F("conversation_title")))
        .order_by("-created_at", "-pk")
    )
    for use in uses:
        yield TrainingUseView(
            conversation_id=use.conversation_id,
            conversation_title=use.shown_title,
            snapshot_label=use.snapshot_label,
            created_at=use.created_at,
        )
