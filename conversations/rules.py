"""The conversation rules of DESIGN §4, each written once.

- **Coverage** (rules 1 and 2): a conversation is covered when its ``covered_by`` record
  belongs to its owner's present, unbroken opt-in run under the current policy: the
  owner's state is ``opt_in`` under that policy, and ``covered_by`` was decided on or
  after the state's ``opt_in_since``. A conversation whose last activity fell in an
  earlier run (opted in, out, in again) is not covered until it is reopened.
- **Retention arithmetic** (rule 2): ``retain_until = last_activity_at + period``, the
  period being the policy's opt-in retention when covered, else its opt-out retention,
  plus the safety extension while the conversation is safety-flagged.
- **Temporary chats** (rule 8): never covered, whatever the owner's choice, and kept
  exactly the opt-out retention after their last activity: no safety extension either,
  since "deleted after 30 days" is the promise the person was given. (A legal hold still
  outranks it, as it outranks every retention: the purge never deletes a held row.)

Everything that asks "is this covered?" or "until when is this kept?" (activity,
recompute on a decision, safety flags, training eligibility, the API) uses these
builders. Pure: this module reads settings and builds expressions; it queries nothing
and imports nothing from the apps that depend on conversations.
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

from consent.models import Choice, ConsentRecord, Policy
from consent.tip import verified_opt_in_q

# Before any policy exists (a fresh install): the periods DESIGN §1 names.
DEFAULT_OPT_IN_RETENTION = timedelta(days=1825)
DEFAULT_OPT_OUT_RETENTION = timedelta(days=30)


# --- Coverage -----------------------------------------------------------------------------


def covered_q(*, policy: Policy | None) -> Q:
    """Filter for conversations covered under ``policy`` (the current one) right now.

    An ``Exists`` on the ``covered_by`` record by primary key, so it works in a filter and
    inside an UPDATE's ``CASE`` alike (an UPDATE may not join). ``covered_by`` must be the
    owner's own record, the owner's state opt-in under ``policy``, and the record decided
    no earlier than the state's ``opt_in_since`` (a null ``opt_in_since`` covers nothing).
    """
    if policy is None:
        return Q(pk__in=[])
    in_present_run = ConsentRecord.objects.filter(
        # The state must still be the chain's verified tip, opted in by the record itself
        # (consent.tip): a hand-edited state row covers nothing.
        verified_opt_in_q(policy=policy, prefix="user__consent_state__"),
        pk=OuterRef("covered_by_id"),
        user_id=OuterRef("user_id"),
        choice=Choice.OPT_IN,
        user__consent_state__policy=policy,
        user__consent_state__choice=Choice.OPT_IN,
        decided_at__gte=F("user__consent_state__opt_in_since__decided_at"),
    )
    # A temporary chat is never covered: here, so that every caller (training eligibility,
    # the API, retention) agrees, and below the ORM by a check constraint on the model.
    return Q(is_temporary=False) & Q(Exists(in_present_run))


# --- Retention arithmetic -----------------------------------------------------------------


def retention_periods(policy: Policy | None) -> tuple[timedelta, timedelta]:
    """(opt-in, opt-out) retention of ``policy``; the defaults before any policy exists."""
    if policy is None:
        return DEFAULT_OPT_IN_RETENTION, DEFAULT_OPT_OUT_RETENTION
    return policy.opt_in_retention, policy.opt_out_retention


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
) -> datetime:
    """``retain_until`` of one conversation (rules 2 and 8)."""
    opt_in, opt_out = retention_periods(policy)
    if temporary:
        return last_activity_at + opt_out
    kept_until = last_activity_at + (opt_in if covered else opt_out)
    if safety_flagged:
        kept_until += safety_extension()
    return kept_until


def retain_until_expression(*, policy: Policy | None) -> Case:
    """``retain_until`` as a database expression over each row, for set-based updates.

    The same arithmetic as ``retain_until``: coverage from ``covered_q``, the safety flag
    from ``safety_flagged_at``, a temporary chat always the opt-out period.
    """
    opt_in, opt_out = retention_periods(policy)

    def plus(period: timedelta) -> ExpressionWrapper:
        return ExpressionWrapper(
            F("last_activity_at") + Value(period), output_field=DateTimeField()
        )

    extension = safety_extension()
    flagged = Q(safety_flagged_at__isnull=False)
    covered = covered_q(policy=policy)
    return Case(
        When(is_temporary=True, then=plus(opt_out)),
        When(covered & flagged, then=plus(opt_in + extension)),
        When(covered, then=plus(opt_in)),
        When(flagged, then=plus(opt_out + extension)),
        default=plus(opt_out),
        output_field=DateTimeField(),
    )
