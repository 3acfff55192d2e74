"""Reads for training: what may go into a snapshot, and what already went in."""

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.signing import BadSignature, Signer
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least

from consent.models import Choice, ConsentRecord, Policy
from consent.selectors import current_policy
from conversations.models import Conversation
from conversations.rules import covered_q

from .models import ConversationErasure, TrainingSnapshot, TrainingUse
from .pseudonyms import user_pseudonym


def eligible_conversations(
    *, now: datetime | None = None, policy: Policy | None = None
) -> QuerySet[Conversation]:
    """Conversations a snapshot taken at ``now`` may include (DESIGN §4 rule 1).

    Covered under the current policy (``conversations.rules.covered_q``: the owner is
    opted in and the last activity fell in that same unbroken opt-in run), not temporary
    (rule 8), not deleted, and its owner not pseudonymised. A conversation from before the opt-in, or covered by
    an earlier run that an opt-out broke, stays out until it is reopened.

    ``policy`` is the current policy when the caller already read it from the database
    (an export checks the live policy, never this process's memo); else it is looked up.
    """
    if policy is None:
        policy = current_policy(now=now)
    return Conversation.objects.filter(
        covered_q(policy=policy),
        # Rule 8: a temporary chat is never covered (a database check holds that too);
        # said here as well, so the export's one builder names every rule it applies.
        is_temporary=False,
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


# --- Withdrawals: what a snapshot already taken may no longer use -------------------------


class WithdrawalReason(enum.StrEnum):
    OPTED_OUT = "opted_out"
    CONVERSATION_DELETED = "conversation_deleted"
    ACCOUNT_DELETED = "account_deleted"


# A withdrawal is listed once it is this old: a decision or delete commits within it, so
# a page never misses one that commits later with an earlier time (keyset stability).
WITHDRAWAL_SETTLE = timedelta(seconds=30)
WITHDRAWALS_PAGE_MAX = 1000
_NEVER = datetime(9999, 12, 31, tzinfo=UTC)
_CURSOR_SALT = "training.withdrawals"


class InvalidCursor(ValueError):
    """A ``since`` cursor that this snapshot's feed did not issue."""


@dataclass(frozen=True)
class Withdrawal:
    conversation_id: int
    user: str  # the pseudonym the snapshot's files carry
    reason: WithdrawalReason
    withdrawn_at: datetime
    cursor: str


@dataclass(frozen=True)
class WithdrawalPage:
    items: list[Withdrawal]
    # Where the next call starts: the last item's cursor, else the ``since`` given (or
    # None from the start): poll with it to receive only what is new.
    next_cursor: str | None


def snapshot_by_key(snapshot_key: str) -> TrainingSnapshot | None:
    return TrainingSnapshot.objects.filter(snapshot_key=snapshot_key).first()


def _cursor_signer(snapshot: TrainingSnapshot) -> Signer:
    return Signer(salt=f"{_CURSOR_SALT}:{snapshot.snapshot_key}")


def _cursor(snapshot: TrainingSnapshot, withdrawn_at: datetime, use_id: int) -> str:
    return _cursor_signer(snapshot).sign_object([withdrawn_at.isoformat(), use_id])


def _position(snapshot: TrainingSnapshot, cursor: str) -> tuple[datetime, int]:
    # A valid signature means this feed issued the cursor, from an aware database time
    # (USE_TZ), so the time it carries is aware too.
    try:
        when, use_id = _cursor_signer(snapshot).unsign_object(cursor)
        return datetime.fromisoformat(when), int(use_id)
    except (BadSignature, ValueError, TypeError) as error:
        raise InvalidCursor(cursor) from error


def withdrawn_uses(snapshot: TrainingSnapshot, *, now: datetime) -> QuerySet[TrainingUse]:
    """Ledger rows of ``snapshot`` withdrawn since they were used, oldest withdrawal first.

    The one definition of "withdrawn since the snapshot". A row was used at its
    ``created_at`` (the instant its shard last checked eligibility); it is withdrawn at the
    earliest of, at or after that instant:

    - ``opted_out``: the owner's first opt-out ``ConsentRecord.decided_at`` (opting in
      again later does not undo it: the old conversation was covered by the broken run);
    - ``account_deleted``: the owner's ``User.pseudonymised_at`` (account deletion);
    - ``conversation_deleted``: the owner's delete of the conversation,
      ``ConversationErasure.erased_at`` (held or not; a retention purge is not a withdrawal).

    Only withdrawals at least ``WITHDRAWAL_SETTLE`` old (as of ``now``) are listed. Each row
    is annotated with ``withdrawn_at`` and ``reason``; the ledger itself is only read.
    """
    since = snapshot.export.planned_at if hasattr(snapshot, "export") else snapshot.created_at
    opt_outs = ConsentRecord.objects.filter(choice=Choice.OPT_OUT, decided_at__gte=since)
    deleted_users = get_user_model().objects.filter(pseudonymised_at__gte=since)
    erasures = ConversationErasure.objects.filter(erased_at__gte=since)
    touched = (
        Q(user_id__in=opt_outs.values("user_id"))
        | Q(user_id__in=deleted_users.values("pk"))
        | Q(conversation_id__in=erasures.values("conversation_id"))
    )
    first_opt_out = (
        ConsentRecord.objects.filter(
            user_id=OuterRef("user_id"),
            choice=Choice.OPT_OUT,
            decided_at__gte=OuterRef("created_at"),
        )
        .order_by("decided_at")
        .values("decided_at")[:1]
    )
    account_deleted = (
        get_user_model()
        .objects.filter(pk=OuterRef("user_id"), pseudonymised_at__gte=OuterRef("created_at"))
        .values("pseudonymised_at")[:1]
    )
    erased = ConversationErasure.objects.filter(
        conversation_id=OuterRef("conversation_id"), erased_at__gte=OuterRef("created_at")
    ).values("erased_at")[:1]
    never = Value(_NEVER, output_field=DateTimeField())
    return (
        TrainingUse.objects.filter(touched, snapshot=snapshot)
        .annotate(
            opted_out_at=Coalesce(Subquery(first_opt_out), never),
            account_deleted_at=Coalesce(Subquery(account_deleted), never),
            erased_at=Coalesce(Subquery(erased), never),
        )
        .annotate(withdrawn_at=Least("opted_out_at", "account_deleted_at", "erased_at"))
        .filter(withdrawn_at__lte=now - WITHDRAWAL_SETTLE)
        .annotate(
            reason=Case(
                When(withdrawn_at=F("account_deleted_at"), then=Value("account_deleted")),
                When(withdrawn_at=F("erased_at"), then=Value("conversation_deleted")),
                default=Value("opted_out"),
                output_field=CharField(),
            )
        )
        .order_by("withdrawn_at", "pk")
    )


def snapshot_withdrawals(
    *, snapshot: TrainingSnapshot, since: str | None, limit: int, now: datetime
) -> WithdrawalPage:
    """One page of the snapshot's withdrawals after the ``since`` cursor (keyset).

    Raises ``InvalidCursor`` for a cursor this snapshot's feed did not issue.
    """
    uses = withdrawn_uses(snapshot, now=now)
    if since:
        after, use_id = _position(snapshot, since)
        uses = uses.filter(Q(withdrawn_at__gt=after) | Q(withdrawn_at=after, pk__gt=use_id))
    rows = list(
        uses.values_list("pk", "conversation_id", "user_id", "reason", "withdrawn_at")[
            : max(1, min(limit, WITHDRAWALS_PAGE_MAX))
        ]
    )
    items = [
        Withdrawal(
            conversation_id=conversation_id,
            user=user_pseudonym(user_id),
            reason=WithdrawalReason(reason),
            withdrawn_at=withdrawn_at,
            cursor=_cursor(snapshot, withdrawn_at, pk),
        )
        for pk, conversation_id, user_id, reason, withdrawn_at in rows
    ]
    return WithdrawalPage(items=items, next_cursor=items[-1].cursor if items else since or None)
