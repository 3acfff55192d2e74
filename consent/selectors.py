"""Reads for consent, the gate's among them."""

import enum
import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from config.memo import ProcessMemo

from .compliance import allowed_in
from .models import (
    ConsentRecord,
    DesignDefault,
    JurisdictionGroup,
    ModalVariant,
    Policy,
    Surface,
    UserConsentState,
)

logger = logging.getLogger(__name__)

# Policies and designs are a handful of rows read on every consent screen: each process
# keeps them (config.memo; consent.apps clears them when one is saved).
# Newest first: the policy in effect is the first of these whose effective_at has come.
POLICY_ORDER = ("-effective_at", "-pk")
policies_memo = ProcessMemo("policies", lambda: list(Policy.objects.order_by(*POLICY_ORDER)))
variants_memo = ProcessMemo("variants", lambda: list(ModalVariant.objects.order_by("pk")))
design_defaults_memo = ProcessMemo(
    "design_defaults",
    lambda: dict(DesignDefault.objects.values_list("jurisdiction_group", "variant_id")),
)


def current_policy(*, now: datetime | None = None) -> Policy | None:
    """The latest policy already in effect (shared by this process: do not modify it)."""
    now = now or timezone.now()
    return next((p for p in policies_memo.get() if p.effective_at <= now), None)


def current_policy_live(*, now: datetime | None = None) -> Policy | None:
    """The latest policy in effect, read from the database, never the memo (DESIGN §4).

    For writes and for answers to other services: a policy published by another process
    may be up to a minute newer than this process's memo.
    """
    now = now or timezone.now()
    return Policy.objects.filter(effective_at__lte=now).order_by(*POLICY_ORDER).first()


@dataclass(frozen=True)
class PolicyBasis:
    """What deciding under a policy version stands on (DESIGN §1: editorial vs material).

    ``material`` is the latest material version at or before the version asked about (an
    editorial version's basis is the material version it amends; the first version is
    always material). Its effective date says who is a new user, its deadline is the one to
    meet, its retention periods apply. A decision recorded under any of ``version_ids``
    (the material version and its editorial amendments) is a decision under this basis:
    this is the one place that says so; the gate's SQL, the coverage rule, the API, the
    reminders and the lockouts all ask it.
    """

    material: Policy
    version_ids: frozenset[int]
    versions: frozenset[str]
    # The previous material version and its amendments: a user opted in under them keeps
    # their retention until this basis's deadline (DESIGN §4 rule 2, conversations.rules).
    previous: Policy | None
    previous_version_ids: frozenset[int]

    @property
    def deadline(self) -> datetime:
        return self.material.decision_deadline

    def decided_under(self, policy_id: int | None) -> bool:
        return policy_id in self.version_ids


def policy_bases_of(policies: list[Policy]) -> dict[int, PolicyBasis]:
    """Every policy's basis, from the policies newest first (``POLICY_ORDER``): each
    material version starts a basis, each editorial one joins the basis before it."""
    groups: list[list[Policy]] = []
    for policy in reversed(policies):  # oldest first
        if policy.is_material or not groups:
            groups.append([policy])
        else:
            groups[-1].append(policy)
    bases: dict[int, PolicyBasis] = {}
    previous: PolicyBasis | None = None
    for group in groups:
        basis = PolicyBasis(
            material=group[0],
            version_ids=frozenset(p.pk for p in group),
            versions=frozenset(p.version for p in group),
            previous=previous.material if previous else None,
            previous_version_ids=previous.version_ids if previous else frozenset(),
        )
        bases.update((p.pk, basis) for p in group)
        previous = basis
    return bases


_bases_of_memo: tuple[list[Policy], dict[int, PolicyBasis]] | None = None


def policy_basis(policy: Policy) -> PolicyBasis:
    """The decision basis of ``policy`` (computed once per load of the policies memo).

    A policy this process's memo does not know yet (published by another process within
    the memo's lifetime) is looked up in the database.
    """
    global _bases_of_memo
    policies = policies_memo.get()
    memo = _bases_of_memo
    if memo is None or memo[0] is not policies:
        memo = _bases_of_memo = (policies, policy_bases_of(policies))
    basis = memo[1].get(policy.pk)
    if basis is None:
        policies_memo.forget()
        basis = policy_bases_of(list(Policy.objects.order_by(*POLICY_ORDER)))[policy.pk]
    return basis


def deadline_of(policy: Policy) -> datetime:
    """The deadline deciding under ``policy`` must meet: its own when material, else its
    basis's (read without the memo for a material version: the common case)."""
    return policy.decision_deadline if policy.is_material else policy_basis(policy).deadline


def decision_policy(*, now: datetime | None = None) -> Policy | None:
    """The current decision basis: the latest material version in effect, or None."""
    policy = current_policy(now=now)
    return policy_basis(policy).material if policy is not None else None


def variant_by_key(key: str) -> ModalVariant | None:
    """A design by key, active or not, as this process last loaded it."""
    return next((v for v in variants_memo.get() if v.key == key), None)


class _LintOfLoad:
    """Whether each design of one load of ``variants_memo`` may be shown to a group, worked
    out once per load: the consent screens ask on every request, and the lint reads only
    the design's own copy. A loaded row is not changed in place (a save clears the memo
    and the next read loads new rows); a design from anywhere else is linted as it is."""

    def __init__(self):
        self._state: tuple[list | None, dict] = (None, {})

    def __call__(self, variant: ModalVariant, group: str) -> bool:
        variants = variants_memo.get()
        loaded, outcomes = self._state
        if loaded is not variants:
            loaded, outcomes = self._state = (variants, {})
        if not any(v is variant for v in loaded):
            return allowed_in(variant, group)
        key = (variant.pk, group)
        if key not in outcomes:
            outcomes[key] = allowed_in(variant, group)
        return outcomes[key]


# ``consent.compliance.allowed_in`` for the designs the consent screens show.
design_allowed = _LintOfLoad()


def default_variant(surface: str, *, group: str = JurisdictionGroup.EU_EEA_UK) -> ModalVariant:
    """The design a jurisdiction group sees where no experiment picks one.

    The group's default (admin), else the setting's design, else any offered design;
    in each case only one the group may be shown (``design_allowed``),
    so a failing design never becomes the EU/EEA/UK fallback.
    """
    offered = [v for v in variants_memo.get() if v.offered_on(surface)]
    default_id = design_defaults_memo.get().get(group)
    configured = next((v for v in offered if v.pk == default_id), None)
    offered = [v for v in offered if design_allowed(v, group)]
    chosen = (
        next((v for v in offered if v.pk == default_id), None)
        or next((v for v in offered if v.key == settings.CONSENT_DEFAULT_VARIANT_KEY), None)
        or next(iter(offered), None)
    )
    if configured is not None and chosen is not configured:
        # Only a write past consent.services.variant_make_default gets here (a shell, a
        # data migration): say so, with ids only, and show a design that passes.
        logger.warning(
            "default consent design fails the lint for its jurisdiction group; not shown",
            extra={
                "jurisdiction_group": str(group),
                "variant_id": configured.pk,
                "fallback_variant_id": getattr(chosen, "pk", None),
            },
        )
    if chosen is not None:
        return chosen
    raise ModalVariant.DoesNotExist(f"No consent design may be shown on {surface!r} to {group}.")


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
    def deadline(self) -> datetime | None:
        """The deadline that applies: the decision basis's, not an editorial version's own."""
        return deadline_of(self.policy) if self.policy is not None else None

    @property
    def surface(self) -> str | None:
        return {
            Requirement.NOTICE: Surface.EXISTING_NOTICE,
            Requirement.FIRST_LOGIN: Surface.FIRST_LOGIN,
            Requirement.DEADLINE: Surface.DEADLINE_GATE,
        }.get(self.requirement)


SESSION_DEFERRED_KEY = "consent_notice_deferred"


@dataclass(frozen=True)
class Standing:
    """A user's choice under one decision basis, and when their latest "Not now" ends."""

    version_ids: frozenset[int]
    choice: str | None
    deferred_until: datetime | None

    @classmethod
    def from_columns(cls, version_ids: frozenset[int], choice, deferred_until) -> "Standing":
        # A raw cursor skips the field's converters: SQLite's driver parses the column by its
        # declared type (a scalar subquery keeps it) but hands back naive UTC.
        if deferred_until is not None and timezone.is_naive(deferred_until):
            deferred_until = timezone.make_aware(deferred_until, UTC)
        return cls(version_ids=version_ids, choice=choice or None, deferred_until=deferred_until)


# Hand-written because it runs on every request: the ORM spent longer compiling these than
# the database spends answering them. One index probe per table. A choice or a "Not now"
# under any version of the decision basis counts (PolicyBasis.version_ids).
_STANDING_COLUMNS = """
    (SELECT s.choice FROM consent_userconsentstate s
        WHERE s.user_id = u.{pk} AND s.policy_id IN ({versions})) AS consent_choice,
    (SELECT d.hidden_until FROM consent_noticedeferral d
        WHERE d.user_id = u.{pk} AND d.policy_id IN ({versions})
        ORDER BY d.hidden_until DESC LIMIT 1) AS consent_deferred_until
"""


@functools.cache  # built once per process and basis size: it runs on every request
def standing_sql(*, with_user: bool, versions: int = 1) -> str:
    """One statement for a user's standing under a decision basis of ``versions`` versions.

    Params: ``standing_params``. ``with_user`` also selects every column of the user's
    row, so that loading the user brings the standing along (consent.backends).
    """
    opts = get_user_model()._meta
    placeholders = ", ".join(["%s"] * versions)
    standing = _STANDING_COLUMNS.format(pk=opts.pk.column, versions=placeholders)
    columns = f"u.*, {standing}" if with_user else standing
    return f"SELECT {columns} FROM {opts.db_table} u WHERE u.{opts.pk.column} = %s"


def standing_params(basis: PolicyBasis, user_id) -> list:
    ids = sorted(basis.version_ids)
    return [*ids, *ids, user_id]


# The attribute consent.backends puts the standing on the user it loads for a request.
PRELOADED_STANDING_ATTR = "_consent_standing"


def _standing(user, basis: PolicyBasis) -> Standing:
    """The user's standing: as loaded with the user for this request, else queried.

    The loaded one serves the first gate check of a request only: anything later in the
    request (after a decision, say) must see the database.
    """
    preloaded = getattr(user, PRELOADED_STANDING_ATTR, None)
    if preloaded is not None:
        delattr(user, PRELOADED_STANDING_ATTR)  # on the user itself, through any lazy proxy
        if preloaded.version_ids == basis.version_ids:
            return preloaded
    sql = standing_sql(with_user=False, versions=len(basis.version_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, standing_params(basis, user.pk))
        row = cursor.fetchone() or (None, None)
    return Standing.from_columns(basis.version_ids, *row)


def gate_status(
    *, user, session=None, now: datetime | None = None, live_policy: bool = False
) -> GateStatus:
    """What the user must do before using the product; no query of its own in a request.

    Derived at request time from the policy dates (DESIGN §1): nothing waits for a batch
    job, so the lock applies the instant the deadline passes. The user's choice comes
    with the user (consent.backends); callers outside a request pay one query.
    ``live_policy`` reads the policy from the database, not the memo (``current_policy_live``).
    Decisions, "Not now", the deadline and who counts as new all follow the decision
    basis (``policy_basis``): an editorial version changes nobody's status.
    """
    now = now or timezone.now()
    policy = current_policy_live(now=now) if live_policy else current_policy(now=now)
    if policy is None:
        return GateStatus(policy=None, choice=None, requirement=Requirement.NONE)
    basis = policy_basis(policy)
    # In effect from effective_at inclusive (as current_policy): joining at that instant is new.
    joined_after = user.date_joined >= basis.material.effective_at
    standing = _standing(user, basis)
    choice, deferred_until = standing.choice, standing.deferred_until
    if choice:
        return GateStatus(policy=policy, choice=choice, requirement=Requirement.NONE)
    if joined_after:
        return GateStatus(policy=policy, choice=None, requirement=Requirement.FIRST_LOGIN)
    # "Decide by <deadline>": the deadline instant itself is already after it (half-open
    # notice period, as a "Not now" capped at the deadline ends there). tests/consent/test_gate.py
    if now >= basis.deadline:
        return GateStatus(policy=policy, choice=None, requirement=Requirement.DEADLINE)
    # "Not now" hides the notice until the next login or 24 hours, whichever is later.
    deferred_this_login = (
        session is not None and session.get(SESSION_DEFERRED_KEY) in basis.versions
    )
    deferred_recently = deferred_until is not None and deferred_until > now  # ends at hidden_until
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
