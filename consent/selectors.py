"""Reads for consent; the gate's one query lives here."""

import enum
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


def gate_status(*, user, session=None, now: datetime | None = None) -> GateStatus:
    """What the user must do before using the product, in one query.

    Derived at request time from the policy dates (DESIGN §1): nothing waits for
    a batch job, so the lock applies the instant the deadline passes.
    """
    now = now or timezone.now()
    policy = _policy_with_user_decision(user_id=user.pk, now=now)
    if policy is None:
        return GateStatus(policy=None, choice=None, requirement=Requirement.NONE)
    if policy.user_choice:
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
