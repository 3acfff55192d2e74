"""Reads behind the consent API: a user's consent status, a conversation's training eligibility."""

import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.contrib.auth import get_user_model

from consent.models import Choice, ConsentRecord, Policy, UserConsentState
from consent.selectors import Requirement, current_policy_live, gate_status, policy_basis
from conversations.models import Conversation
from conversations.rules import covered_q

from .models import ServiceToken
from .tokens import token_digest


def service_token_for_secret(secret: str) -> ServiceToken | None:
    """The token whose digest matches; a lookup by digest reveals nothing about the secret."""
    return ServiceToken.objects.filter(secret_sha256=token_digest(secret)).first()


class ConsentStatus(enum.StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    UNDECIDED = "undecided"  # may still use the product (notice, or deferred) or must decide first
    LOCKED_OUT = "locked_out"  # undecided after the decision deadline
    NO_POLICY = "no_policy"
    ACCOUNT_DELETED = "account_deleted"


@dataclass(frozen=True)
class UserConsent:
    user_id: int
    status: ConsentStatus
    requirement: str
    blocked: bool
    policy_version: str | None
    decision_deadline: datetime | None
    choice: str | None
    decided_at: datetime | None
    latest_record_id: UUID | None


def user_consent_get(*, user_id: int, now: datetime) -> UserConsent | None:
    """The user's consent as the gate sees it at ``now`` (``consent.selectors.gate_status``).

    ``choice`` and ``decided_at`` are those under the current policy (a decision under an
    older version no longer counts); ``latest_record_id`` is the newest record of any policy.
    """
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None
    # The policy row, not this process's memo: another process may have just published one.
    gate = gate_status(user=user, session=None, now=now, live_policy=True)
    state = (
        UserConsentState.objects.filter(user=user)
        .only("policy_id", "decided_at", "latest_record_id")
        .first()
    )
    current = (
        state is not None
        and gate.policy is not None
        and policy_basis(gate.policy).decided_under(state.policy_id)
    )
    if user.pseudonymised_at is not None:
        status = ConsentStatus.ACCOUNT_DELETED
    elif gate.policy is None:
        status = ConsentStatus.NO_POLICY
    elif gate.choice == Choice.OPT_IN:
        status = ConsentStatus.OPTED_IN
    elif gate.choice == Choice.OPT_OUT:
        status = ConsentStatus.OPTED_OUT
    elif gate.requirement == Requirement.DEADLINE:
        status = ConsentStatus.LOCKED_OUT
    else:
        status = ConsentStatus.UNDECIDED
    return UserConsent(
        user_id=user.pk,
        status=status,
        requirement=gate.requirement.value,
        blocked=gate.blocks,
        policy_version=gate.policy.version if gate.policy else None,
        decision_deadline=gate.deadline,
        choice=gate.choice,
        decided_at=state.decided_at if current else None,
        latest_record_id=state.latest_record_id if state else None,
    )


class IneligibleReason(enum.StrEnum):
    NOT_FOUND = "not_found"  # never existed, or deleted
    USER_DELETED = "user_deleted"  # the account was deleted (pseudonymised)
    NO_POLICY = "no_policy"
    USER_NOT_OPTED_IN = "user_not_opted_in"  # undecided, or opted out, under the current policy
    POLICY_SUPERSEDED = "policy_superseded"  # opted in, but under an older policy version
    NOT_COVERED = "not_covered"  # no activity while the present opt-in was in force
    TEMPORARY = "temporary"  # a temporary chat: never used for training, whatever the choice


@dataclass(frozen=True)
class TrainingEligibility:
    conversation_id: int
    eligible: bool
    reason: IneligibleReason | None
    user_id: int | None
    policy_version: str | None
    covered_by_record_id: UUID | None
    checked_at: datetime


def conversation_training_eligibility(
    *, conversation_id: int, now: datetime
) -> TrainingEligibility:
    """May this conversation go into a training snapshot taken at ``now``? (DESIGN §4 rule 1)

    The rule of ``training.selectors.eligible_conversations`` for one conversation, plus
    the first reason it fails: the owner is not deleted, it is not a temporary chat
    (``covered_q`` never covers one), their current choice is opt-in
    under the current policy, and the conversation's last activity is covered by that
    same unbroken opt-in run (``conversations.rules.covered_q``).
    """
    conversation = (
        # Deleted by its owner but kept for a legal hold: gone as far as training knows.
        Conversation.objects.filter(pk=conversation_id, deleted_by_user_at__isnull=True)
        .select_related("user")
        .only(
            "pk", "user_id", "covered_by_id", "is_temporary", "user__id", "user__pseudonymised_at"
        )
        .first()
    )
    policy = current_policy_live(now=now)  # the database, not this process's memo

    def answer(reason: IneligibleReason | None) -> TrainingEligibility:
        return TrainingEligibility(
            conversation_id=conversation_id,
            eligible=reason is None,
            reason=reason,
            user_id=conversation.user_id if conversation else None,
            policy_version=policy.version if policy else None,
            covered_by_record_id=conversation.covered_by_id if conversation else None,
            checked_at=now,
        )

    if conversation is None:
        return answer(IneligibleReason.NOT_FOUND)
    if conversation.user.pseudonymised_at is not None:
        return answer(IneligibleReason.USER_DELETED)
    # Before the consent checks: whatever the owner chose, the answer is the same (rule 8).
    if conversation.is_temporary:
        return answer(IneligibleReason.TEMPORARY)
    if policy is None:
        return answer(IneligibleReason.NO_POLICY)
    return answer(_coverage_reason(conversation, policy))


def _coverage_reason(conversation: Conversation, policy: Policy) -> "IneligibleReason | None":
    state = (
        UserConsentState.objects.filter(user_id=conversation.user_id)
        .select_related("opt_in_since")
        .only("policy_id", "choice", "opt_in_since__decided_at")
        .first()
    )
    if state is None:
        return IneligibleReason.USER_NOT_OPTED_IN
    if not policy_basis(policy).decided_under(state.policy_id):
        return (
            IneligibleReason.POLICY_SUPERSEDED
            if state.choice == Choice.OPT_IN
            else IneligibleReason.USER_NOT_OPTED_IN
        )
    if state.choice != Choice.OPT_IN or state.opt_in_since is None:
        return IneligibleReason.USER_NOT_OPTED_IN
    # The verdict is the coverage rule itself; the checks above only name why it fails.
    covered = (
        Conversation.objects.filter(pk=conversation.pk).filter(covered_q(policy=policy)).exists()
    )
    return None if covered else IneligibleReason.NOT_COVERED


def consent_record_for_receipt(record_id: UUID) -> ConsentRecord | None:
    return ConsentRecord.objects.select_related("policy", "previous").filter(pk=record_id).first()
