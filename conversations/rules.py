"""The conversation rules of DESIGN §4, each written once.

- **Coverage** (rules 1 and 2): a conversation is covered when its ``covered_by`` record
  belongs to its owner's present, unbroken opt-in run under the current decision basis
  (``consent.selectors.policy_basis``: the latest material policy version; an editorial
  version changes nothing): the owner's state is ``opt_in`` under a version of that basis,
  and ``covered_by`` was decided on or after the state's ``opt_in_since``. A conversation
  whose last activity fell in an earlier run (opted in, out, in again) is not covered
  until it is reopened.
- **Retention arithmetic** (rule 2): ``retain_until = last_activity_at + period``, the
  period being the basis's opt-in retention when covered, else its opt-out retention,
  plus the safety extension while the conversation is safety-flagged. Across a material
  change, until the new version's deadline, a chat covered by an opt-in under the
  previous basis (``grace_covered_q``) keeps the opt-in retention it had (the previous
  basis's) but is never used for training on that account. Undecided after the deadline,
  the opt-out retention applies: the lockout task recomputes those users' chats in
  batches (consent.services.reminders).
- **Temporary chats** (rule 8): never covered, whatever the owner's choice, and kept
  exactly the opt-out retention after their last activity: no safety extension either,
  since "deleted after 30 days" is the promise the person was given. (A legal hold still
  outranks it, as it outranks every retention: the purge never deletes a held row.)

Everything that asks "is this covered?" or "until when is this kept?" (activity,
recompute on a decision or a lockout, safety flags, training eligibility, the API) uses
these builders. Pure: this module reads settings and the policies memo and builds
expressions; it imports nothing from the apps that depend on conversations.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone

from consent.models import Choice, ConsentRecord, Policy
from consent.selectors import policy_basis
from consent.tip import verified_opt_in_q

# Before any policy exists (a fresh install): the periods DESIGN §1 names.
DEFAULT_OPT_IN_RETENTION = timedelta(days=1825)
DEFAULT_OPT_OUT_RETENTION = timedelta(days=30)


# --- Coverage -----------------------------------------------------------------------------


def _grace_versions(policy: Policy, *, now: datetime) -> frozenset[int]:
    """Versions whose opt-ins keep their retention at ``now`` without counting for
    training: the previous basis's, until this basis's deadline (DESIGN §4 rule 2: across a
    material change an opt-in keeps its retention until the new deadline; undecided after
    it, the opt-out retention applies)."""
    basis = policy_basis(policy)
    return basis.previous_version_ids if now < basis.deadline else frozenset()


def _in_present_run_q(policy_ids: frozenset[int]) -> Q:
    """``covered_by`` is an opt-in of its owner's present, unbroken run, the owner's state
    (the chain's verified tip) being opt-in under one of ``policy_ids``."""
    in_present_run = ConsentRecord.objects.filter(
        # The state must still be the chain's verified tip, opted in by the record itself
        # (consent.tip): a hand-edited state row covers nothing.
        verified_opt_in_q(policy_ids=policy_ids, prefix="user__consent_state__"),
        pk=OuterRef("covered_by_id"),
        user_id=OuterRef("user_id"),
        choice=Choice.OPT_IN,
        decided_at__gte=F("user__consent_state__opt_in_since__decided_at"),
    )
    # A temporary chat is never covered: here, so that every caller (training eligibility,
    # the API, retention) agrees, and below the ORM by a check constraint on the model.
    return Q(is_temporary=False) & Q(Exists(in_present_run))


def covered_q(*, policy: Policy | None) -> Q:
    """Filter for conversations covered under ``policy`` (the current one) right now.

    An ``Exists`` on the ``covered_by`` record by primary key, so it works in a filter and
    inside an UPDATE's ``CASE`` alike (an UPDATE may not join). ``covered_by`` must be the
    owner's own record, the owner's state opt-in under the current decision basis (the
    latest material version; an editorial version changes nothing), and the record decided
    no earlier than the state's ``opt_in_since`` (a null ``opt_in_since`` covers nothing).
    """
    if policy is None:
        return Q(pk__in=[])
    return _in_present_run_q(policy_basis(policy).version_ids)


def grace_covered_q(*, policy: Policy | None, now: datetime) -> Q:
    """Conversations that keep the previous basis's opt-in retention at ``now``: covered by
    an opt-in under the basis before the current one, whose deadline has not passed.
    Never training use: only ``covered_q`` says that."""
    grace = _grace_versions(policy, now=now) if policy is not None else frozenset()
    return _in_present_run_q(grace) if grace else Q(pk__in=[])


def lapsed_opt_in_q(*, policy: Policy | None, now: datetime) -> Q:
    """Conversations still kept longer than the opt-out retention for an opt-in that no
    longer keeps it at ``now``: covered by an opt-in, but neither ``covered_q`` nor
    ``grace_covered_q`` holds (the owner stayed undecided past the deadline, or the opt-in
    is older than the previous basis). The lockout task recomputes them."""
    _, opt_out = retention_periods(policy)
    kept_longest = Case(
        When(
            safety_flagged_at__isnull=False,
            then=F("last_activity_at") + Value(opt_out + safety_extension()),
        ),
        default=F("last_activity_at") + Value(opt_out),
        output_field=DateTimeField(),
    )
    return (
        Q(covered_by__isnull=False, is_temporary=False, retain_until__gt=kept_longest)
        & ~covered_q(policy=policy)
        & ~grace_covered_q(policy=policy, now=now)
    )


def opt_in_state_q(*, policy: Policy | None, now: datetime) -> Q:
    """Filter on UserConsentState: states whose latest record covers activity at ``now``,
    for training (``covered_q``) or for retention only (``grace_covered_q``)."""
    if policy is None:
        return Q(pk__in=[])
    counted = policy_basis(policy).version_ids | _grace_versions(policy, now=now)
    return Q(choice=Choice.OPT_IN, policy_id__in=sorted(counted))


def is_grace_state(*, policy: Policy, state_policy_id: int) -> bool:
    """Whether an opt-in state found by ``opt_in_state_q`` counts for retention only."""
    return state_policy_id not in policy_basis(policy).version_ids


# --- Retention arithmetic -----------------------------------------------------------------


def retention_periods(policy: Policy | None) -> tuple[timedelta, timedelta]:
    """(opt-in, opt-out) retention under ``policy``: its decision basis's (an editorial
    version keeps them, consent.admin checks); the defaults before any policy exists."""
    if policy is None:
        return DEFAULT_OPT_IN_RETENTION, DEFAULT_OPT_OUT_RETENTION
    material = policy_basis(policy).material
    return material.opt_in_retention, material.opt_out_retention


def grace_opt_in_retention(policy: Policy | None) -> timedelta:
    """The opt-in retention kept across a material change: the previous basis's."""
    basis = policy_basis(policy) if policy is not None else None
    if basis is None or basis.previous is None:
        return retention_periods(policy)[0]
    return basis.previous.opt_in_retention


def safety_extension() -> timedelta:
    """How much longer a safety-flagged conversation is kept for review."""
    return timedelta(days=settings.SAFETY_RETENTION_EXTENSION_DAYS)


def retain_until(
    *,
    last_activity_at: datetime,
    covered: bool,
    safety_flagged: bool,
    policy: Policy | None,
    temporary: bool,
    grace: bool = False,
) -> datetime:
    """``retain_until`` of one conversation (rules 2 and 8); ``grace``: covered for
    retention only, by an opt-in under the previous basis (``grace_covered_q``)."""
    opt_in, opt_out = retention_periods(policy)
    if temporary:
        return last_activity_at + opt_out
    if covered:
        kept_until = last_activity_at + opt_in
    elif grace:
        kept_until = last_activity_at + grace_opt_in_retention(policy)
    else:
        kept_until = last_activity_at + opt_out
    if safety_flagged:
        kept_until += safety_extension()
    return kept_until


def retain_until_expression(*, policy: Policy | None, now: datetime | None = None) -> Case:
    """``retain_until`` as a database expression over each row, for set-based updates.

    The same arithmetic as ``retain_until``: coverage from ``covered_q``, the grace across
    a material change at ``now`` from ``grace_covered_q``, the safety flag from
    ``safety_flagged_at``, a temporary chat always the opt-out period.
    """
    now = now or timezone.now()
    opt_in, opt_out = retention_periods(policy)
    kept_opt_in = grace_opt_in_retention(policy)

    def plus(period: timedelta) -> ExpressionWrapper:
        return ExpressionWrapper(
            F("last_activity_at") + Value(period), output_field=DateTimeField()
        )

    extension = safety_extension()
    flagged = Q(safety_flagged_at__isnull=False)
    covered = covered_q(policy=policy)
    grace = grace_covered_q(policy=policy, now=now)
    return Case(
        When(is_temporary=True, then=plus(opt_out)),
        When(covered & flagged, then=plus(opt_in + extension)),
        When(covered, then=plus(opt_in)),
        When(grace & flagged, then=plus(kept_opt_in + extension)),
        When(grace, then=plus(kept_opt_in)),
        When(flagged, then=plus(opt_out + extension)),
        default=plus(opt_out),
        output_field=DateTimeField(),
    )
