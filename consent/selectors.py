"""Reads for consent; the gate's one query lives here."""

import enum
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import ConsentRecord, ModalVariant, Policy, Surface, UserConsentState


def current_policy(*, now: datetime | None = None) -> Policy | None:
    """The latest policy already in effect."""
    now = now or timezone.now()
    return Policy.objects.filter(effective_at__lte=now).order_by("-effective_at").first()


def default_variant(surface: str) -> ModalVariant:
    """The design shown where no experiment picks one: the admin's default, else the setting."""
    candidates = ModalVariant.objects.filter(is_active=True)
    for variant in candidates.filter(is_default=True)[:1]:
        if variant.offered_on(surface):
            return variant
    variant = candidates.filter(key=settings.CONSENT_DEFAULT_VARIANT_KEY).first()
    if variant is not None and variant.offered_on(surface):
        return variant
    for variant in candidates.order_by("pk"):
        if variant.offered_on(surface):
            return variant
    raise ModalVariant.DoesNotExist(f"No active consent design is offered on {surface!r}.")


class Requirement(enum.Enum):
    NONE = "none"
    NOTICE = "notice"  # deferrable modal over the product page
    FIRST_LOGIN = "first_login"  # blocking: joined after the policy took effect
    DEADLINE = "deadline"  # blocking: the decision deadline has passed

    @property
    def blocks(self) -> bool:
        return self in (Requirement.FIRST_LOGIN, Requirement.DEADLINE)


@dataclass(frozen=True)
class GateStatus:
    policy: Policy | None
    choice: str | None
    requirement: Requirement

    @property
    def blocks(self) -> bool:
        return self.requirement.blocks

    @property
    def surface(self) -> str | None:
        return {
            Requirement.NOTICE: Surface.EXISTING_NOTICE,
            Requirement.FIRST_LOGIN: Surface.FIRST_LOGIN,
            Requirement.DEADLINE: Surface.DEADLINE_GATE,
        }.get(self.requirement)


SESSION_DEFERRED_KEY = "consent_notice_deferred"
# The choice, when only "decided" is known (from the session) and not which way.
DECIDED = "decided"


# Hand-written because it runs on every request: the ORM spends longer compiling the two
# correlated subqueries than the database spends answering them. One statement, one index
# probe per table; the model fields come back converted through Policy.objects.raw().
_GATE_SQL = """
    SELECT p.*,
        (SELECT s.choice FROM consent_userconsentstate s
            WHERE s.user_id = %s AND s.policy_id = p.id) AS user_choice,
        (SELECT d.hidden_until FROM consent_noticedeferral d
            WHERE d.user_id = %s AND d.policy_id = p.id
            ORDER BY d.hidden_until DESC LIMIT 1) AS deferred_until
    FROM consent_policy p
    WHERE p.effective_at <= %s
    ORDER BY p.effective_at DESC
    LIMIT 1
"""


def _policy_with_user_decision(*, user_id: int, now: datetime) -> Policy | None:
    """The current policy, annotated with the user's choice under it and "Not now" end."""
    for policy in Policy.objects.raw(_GATE_SQL, [user_id, user_id, now]):
        if isinstance(policy.deferred_until, str):  # SQLite hands back subquery text
            policy.deferred_until = parse_datetime(policy.deferred_until)
        if policy.deferred_until is not None and timezone.is_naive(policy.deferred_until):
            policy.deferred_until = timezone.make_aware(policy.deferred_until, UTC)
        return policy
    return None


# Which policy is current is a function of time over a handful of rows that change a
# few times a year: each process keeps the timeline for a minute, and saving a policy
# clears it here at once (consent.apps wires the signal). A policy saved elsewhere with
# an immediate effective time reaches this process within POLICY_TIMELINE_SECONDS.
POLICY_TIMELINE_SECONDS = 60
_policy_timeline_memo: tuple[float, list[tuple[int, datetime]]] | None = None

SESSION_DECIDED_KEY = "consent_decided"


def policy_timeline_forget(**_kwargs) -> None:
    global _policy_timeline_memo
    _policy_timeline_memo = None


def _current_policy_id(now: datetime) -> int | None:
    global _policy_timeline_memo
    memo = _policy_timeline_memo
    if memo is None or memo[0] < time.monotonic():
        timeline = list(Policy.objects.order_by("-effective_at").values_list("pk", "effective_at"))
        memo = _policy_timeline_memo = (time.monotonic() + POLICY_TIMELINE_SECONDS, timeline)
    return next((pk for pk, effective_at in memo[1] if effective_at <= now), None)


def gate_status(*, user, session=None, now: datetime | None = None) -> GateStatus:
    """What the user must do before using the product: one query at most, usually none.

    Derived at request time from the policy dates (DESIGN §1): nothing waits for a batch
    job, so the lock applies the instant the deadline passes. A decision is permanent
    (records are append-only), so once this session has seen its user decided under the
    current policy, later requests need no query at all; anything else is looked up.
    """
    now = now or timezone.now()
    decided_marker = {"user": user.pk, "policy": None}
    if session is not None:
        decided_marker["policy"] = _current_policy_id(now)
        if (
            decided_marker["policy"] is not None
            and session.get(SESSION_DECIDED_KEY) == decided_marker
        ):
            return GateStatus(policy=None, choice=DECIDED, requirement=Requirement.NONE)
    policy = _policy_with_user_decision(user_id=user.pk, now=now)
    if policy is None:
        return GateStatus(policy=None, choice=None, requirement=Requirement.NONE)
    if policy.user_choice:
        if session is not None and decided_marker["policy"] == policy.pk:
            session[SESSION_DECIDED_KEY] = decided_marker
        return GateStatus(policy=policy, choice=policy.user_choice, requirement=Requirement.NONE)
    if user.date_joined >= policy.effective_at:
        return GateStatus(policy=policy, choice=None, requirement=Requirement.FIRST_LOGIN)
    if now >= policy.decision_deadline:
        return GateStatus(policy=policy, choice=None, requirement=Requirement.DEADLINE)
    # "Not now" hides the notice until the next login or 24 hours, whichever is later.
    deferred_this_login = (
        session is not None and session.get(SESSION_DEFERRED_KEY) == policy.version
    )
    deferred_recently = policy.deferred_until is not None and policy.deferred_until > now
    if deferred_this_login or deferred_recently:
        return GateStatus(policy=policy, choice=None, requirement=Requirement.NONE)
    return GateStatus(policy=policy, choice=None, requirement=Requirement.NOTICE)


def consent_state_for(user) -> UserConsentState | None:
    return (
        UserConsentState.objects.filter(user=user)
        .select_related("policy", "latest_record", "latest_record__variant")
        .first()
    )


def consent_records_for(user) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(user=user)
        .select_related("policy", "variant", "previous")
        .order_by("-decided_at")
    )


def consent_record_get_for(user, record_id) -> ConsentRecord:
    """One of the user's own records; another user's is reported as missing."""
    return ConsentRecord.objects.select_related("policy", "variant", "user", "previous").get(
        pk=record_id, user=user
    )
