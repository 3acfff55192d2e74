"""Reads for training: what may go into a snapshot, and what already went in."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from consent.models import Policy
from consent.selectors import current_policy
from conversations.models import Conversation
from conversations.rules import covered_q

from .models import TrainingUse


def eligible_conversations(
    *, now: datetime | None = None, policy: Policy | None = None
) -> QuerySet[Conversation]:
    """Conversations a snapshot taken at ``now`` may include (DESIGN §4 rule 1).

    Covered under the current policy (``conversations.rules.covered_q``: the owner is
    opted in and the last activity fell in that same unbroken opt-in run), not deleted,
    and its owner not pseudonymised. A conversation from before the opt-in, or covered by
    an earlier run that an opt-out broke, stays out until it is reopened.

    ``policy`` is the current policy when the caller already read it from the database
    (an export checks the live policy, never this process's memo); else it is looked up.
    """
    if policy is None:
        policy = current_policy(now=now)
    return Conversation.objects.filter(
        covered_q(policy=policy),
        deleted_by_user_at__isnull=True,
        user__pseudonymised_at__isnull=True,
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
