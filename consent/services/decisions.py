"""Recording decisions: one append-only ConsentRecord plus the user's UserConsentState,
written in one transaction (DESIGN §3, §4 rule 4)."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from config.statements import Statement, row_insert, statements_run
from webhooks.models import EventType
from webhooks.services import EventDraft, event_inserts

from .. import errors
from ..chain import record_hash_compute
from ..errors import ConsentError
from ..evidence import record_log_insert
from ..models import (
    Choice,
    ConsentRecord,
    Lockout,
    ModalVariant,
    Policy,
    ServedNotice,
    Surface,
    UserConsentState,
)
from ..selectors import gate_status, policy_basis
from ..signals import decision_recorded
from .decision_forms import (
    RequestContext,
    Submission,
    choice_from_submission,
    decision_form_load,
    form_targets,
)
from .guards import policy_live, policy_live_check, user_lock_statement
from .surfaces import form_serving_of, serving_to_insert

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainTip:
    """What a new record links to: the user's latest record (a ConsentRecord fits too)."""

    pk: uuid.UUID
    record_hash: str


@dataclass(frozen=True)
class DecisionBasis:
    """Everything a decision reads, once the user's lock is held."""

    form_used_by: uuid.UUID | None  # the record that already spent this form key
    form_deferred: bool  # the key was spent on "Not now"
    state_policy_id: int | None
    state_choice: str | None
    opt_in_since_id: uuid.UUID | None
    previous: ChainTip | None
    open_lockout: bool
    has_conversations: bool
    served_to_user_id: int | None  # the owner of the serving the form names, if any
    served_shown_copy_id: str | None  # what that serving showed
    live_policy_id: int | None  # the policy in effect, read here rather than from a memo
    latest_policy_id: int | None  # the policy taking effect last, perhaps in the future

    def current_choice(self, live: Policy) -> str | None:
        """The user's choice under the live policy's decision basis; None if they have not
        made one (a choice under an editorial version's basis carries over)."""
        return self.state_choice if policy_basis(live).decided_under(self.state_policy_id) else None


@dataclass(frozen=True)
class Decision:
    """What a submitted form came to: a new record, or the one an earlier submit made."""

    record: ConsentRecord
    replayed: bool  # the form was already spent: nothing new was recorded
    current_choice: str | None  # the user's choice now, under the live policy


# Hand-written for the same reason as the gate's query (consent.selectors): one statement
# instead of five ORM queries, whose compiling cost more than the database's answering.
_DECISION_BASIS_SQL = """
    SELECT
        (SELECT r.id FROM consent_consentrecord r WHERE r.form_key = %s),
        EXISTS (SELECT 1 FROM consent_usedformkey k WHERE k.key = %s),
        s.policy_id, s.choice, s.opt_in_since_id, s.latest_record_id, latest.record_hash,
        EXISTS (SELECT 1 FROM consent_lockout l
                WHERE l.user_id = %s AND l.policy_id = %s
                  AND l.resolved_at IS NULL),
        EXISTS (SELECT 1 FROM conversations_conversation c
                WHERE c.user_id = %s AND c.deleted_by_user_at IS NULL),
        served.user_id, served.shown_copy_id,
        (SELECT p.id FROM consent_policy p WHERE p.effective_at <= %s
         ORDER BY p.effective_at DESC, p.id DESC LIMIT 1),
        (SELECT p.id FROM consent_policy p ORDER BY p.effective_at DESC, p.id DESC LIMIT 1)
    FROM (SELECT 1) AS one
    LEFT JOIN consent_userconsentstate s ON s.user_id = %s
    LEFT JOIN consent_consentrecord latest ON latest.id = s.latest_record_id
    LEFT JOIN consent_servednotice served ON served.id = %s
"""


def _decision_basis_locked(
    *,
    user,
    policy_id: int,
    form_key: str,
    now: datetime,
    served_id: uuid.UUID | None = None,
) -> DecisionBasis:
    """Take the user's lock, then read the basis: two statements, one round trip. The read's
    plan is kept (config.statements): planning it cost more than running it.

    ``now`` is read before the lock; the live policy it gives holds after the wait only if
    no policy takes effect after it (``latest_policy_id``), else the caller asks again.
    """
    served = ServedNotice._meta.pk.get_db_prep_value(served_id, connection)
    at = connection.ops.adapt_datetimefield_value(now)
    params = (form_key, form_key, user.pk, policy_id, user.pk, at, user.pk, served)
    basis = Statement(_DECISION_BASIS_SQL, params, prepared=True)
    rows = statements_run([user_lock_statement(user), basis])
    row = rows[0]
    head = row[:9]
    (used_by, deferred, policy, choice, opt_in_since, latest_id, latest_hash, lockout, chats) = head
    served_to_user_id, served_shown_copy_id, live_policy_id, latest_policy_id = row[9:]
    # Raw rows skip the field's conversion: SQLite hands back record ids as hex text.
    record_id = ConsentRecord._meta.pk.to_python
    return DecisionBasis(
        form_used_by=record_id(used_by),
        form_deferred=bool(deferred),
        state_policy_id=policy,
        state_choice=choice,
        opt_in_since_id=record_id(opt_in_since),
        previous=ChainTip(record_id(latest_id), latest_hash) if latest_id else None,
        open_lockout=bool(lockout),
        has_conversations=bool(chats),
        served_to_user_id=served_to_user_id,
        served_shown_copy_id=served_shown_copy_id,
        live_policy_id=live_policy_id,
        latest_policy_id=latest_policy_id,
    )


# The state row's fields that follow each new record (the user, its key, stays).
_STATE_FOLLOWS = ("policy", "choice", "latest_record", "tip_hash", "opt_in_since", "decided_at")


def _state_upsert(
    *, user, policy: Policy, record: ConsentRecord, basis: DecisionBasis
) -> Statement:
    """The user's state row follows the new record: one upsert, first decision or not."""
    continuing_opt_in = (
        policy_basis(policy).decided_under(basis.state_policy_id)
        and basis.state_choice == Choice.OPT_IN
        and record.choice == Choice.OPT_IN
    )
    opt_in_since_id = None
    if record.choice == Choice.OPT_IN:
        opt_in_since_id = basis.opt_in_since_id if continuing_opt_in else record.pk
    state = UserConsentState(
        user_id=user.pk,
        policy=policy,
        choice=record.choice,
        latest_record=record,
        tip_hash=record.record_hash,
        opt_in_since_id=opt_in_since_id,
        decided_at=record.decided_at,
    )
    meta, quote = UserConsentState._meta, connection.ops.quote_name
    followed = [quote(meta.get_field(name).column) for name in _STATE_FOLLOWS]
    updates = ", ".join(f"{column} = excluded.{column}" for column in followed)
    key = quote(meta.pk.column)
    suffix = f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
    return row_insert(state, suffix=suffix, prepared=True)


def _serving_insert(serving: ServedNotice) -> Statement:
    """The serving the record links to, if the process that rendered it has not written it
    yet (config.durability); whichever insert comes second does nothing."""
    key = connection.ops.quote_name(ServedNotice._meta.pk.column)
    return row_insert(serving, suffix=f" ON CONFLICT ({key}) DO NOTHING", prepared=True)


def consent_record_build(
    *,
    user_id: int,
    policy: Policy,
    choice: str,
    surface: str,
    shown_at: datetime,
    decided_at: datetime,
    form_key: str,
    previous: ConsentRecord | ChainTip | None,
    variant: ModalVariant | None = None,
    arm=None,
    toggle_touched: bool = False,
    learn_more_opened: bool = False,
    ip_hash: str = "",
    user_agent: str = "",
    locale: str = "",
    jurisdiction: str = "",
    served_notice_id: uuid.UUID | None = None,
    shown_copy_id: str | None = None,
    language: str | None = None,
    requested_language: str | None = None,
    copy_digest: str | None = None,
) -> ConsentRecord:
    """An unsaved record with the design's copy frozen in and its chain hash computed.

    The one place a record's evidence fields are filled, for the service below and for
    anything that writes records in bulk (the experiments demo, test data).
    ``toggle_touched`` and ``learn_more_opened`` are stored as the browser reported them.
    ``variant`` comes with its copy in ``language`` (``consent.copy.design_in``), so
    ``shown`` freezes the words in the language the person read.
    """
    record = ConsentRecord(
        id=uuid.uuid4(),
        user_id=user_id,
        policy=policy,
        policy_digest=policy.text_digest,
        choice=choice,
        surface=surface,
        variant=variant,
        arm=arm,
        shown=variant.snapshot() if variant else {},
        toggle_default=variant.toggle_default
        if variant is not None and variant.has_toggle
        else None,
        toggle_touched=toggle_touched,
        learn_more_opened=learn_more_opened,
        shown_at=shown_at,
        decided_at=decided_at,
        form_key=form_key,
        ip_hash=ip_hash,
        user_agent=user_agent,
        locale=locale,
        jurisdiction=jurisdiction,
        previous_id=previous.pk if previous else None,
        served_notice_id=served_notice_id,
        shown_copy_id=shown_copy_id,
        language=language,
        requested_language=requested_language,
        copy_digest=copy_digest,
    )
    record.record_hash = record_hash_compute(record, previous.record_hash if previous else None)
    return record


def _replay(*, user, choice: str, basis: DecisionBasis, live: Policy) -> Decision:
    """A form already spent: the same answer gets the first record back, another is refused."""
    existing = ConsentRecord.objects.filter(pk=basis.form_used_by).first()
    if existing is None or existing.user_id != user.pk or existing.choice != choice:
        raise ConsentError(errors.FORM_ALREADY_USED, status=409, code="form_already_used")
    return Decision(record=existing, replayed=True, current_choice=basis.current_choice(live))


def _decision_event(
    *, user, policy: Policy, record: ConsentRecord, basis: DecisionBasis
) -> list[Statement]:
    """The outbox rows for downstream systems (webhooks), in the deciding transaction."""
    now = record.decided_at
    return event_inserts(
        EventDraft(
            type=EventType.CONSENT_DECIDED,
            user_id=user.pk,
            record_id=record.pk,
            occurred_at=now,
            data={
                "choice": record.choice,
                "previous_choice": basis.current_choice(policy),
                "policy_version": policy.version,
                "surface": record.surface,
                "decided_at": now.isoformat(),
            },
        )
    )


def _after_decision(*, user, policy: Policy, record: ConsentRecord, basis: DecisionBasis) -> None:
    """What else changes in the deciding transaction, once the record is in: lockouts and
    conversations' retention."""
    now = record.decided_at
    if basis.open_lockout:
        Lockout.objects.filter(
            user=user, policy=policy_basis(policy).material, resolved_at__isnull=True
        ).update(resolved_at=now)
    if basis.has_conversations:
        # conversations recomputes their retain_until (DESIGN §4 rule 2) in this transaction.
        decision_recorded.send(sender=ConsentRecord, user=user, policy=policy, now=now)
    logger.info(
        "consent decision recorded",
        extra={
            "record_id": str(record.pk),
            "user_id": user.pk,
            "choice": record.choice,
            "surface": record.surface,
        },
    )


def _answer_check(*, choice: str, surface: str, variant: ModalVariant | None) -> None:
    if choice not in Choice.values:
        raise ConsentError(errors.INVALID_CHOICE, code="invalid_choice")
    if surface not in Surface.values:
        raise ConsentError(errors.FORM_TAMPERED, code="form_tampered")
    if variant is not None and not variant.offered_on(surface):
        raise ConsentError(errors.VARIANT_NOT_OFFERED, code="variant_not_offered")


@transaction.atomic
def consent_decision_record(
    *,
    user,
    policy: Policy,
    choice: str,
    surface: str,
    form_key: str,
    shown_at: datetime,
    variant: ModalVariant | None = None,
    arm=None,
    toggle_touched: bool = False,
    learn_more_opened: bool = False,
    context: RequestContext | None = None,
    served_id: uuid.UUID | None = None,
    language: str | None = None,
    requested_language: str | None = None,
    copy_digest: str | None = None,
    form_serving: ServedNotice | None = None,
) -> Decision:
    """Record one decision, exactly once per form key, and update the user's state.

    A second submit of the same form returns the first record unchanged (a double click,
    a retry, a second tab); a different answer on the same form is refused. Checked
    against the live policy in the database under the user's lock, never a memo.
    ``served_id`` names the rendering the form came from (consent.ServedNotice): the
    record links to it and to what it showed, and it must have been shown to this user.
    ``form_serving`` is that rendering's row as the signed form describes it, inserted with
    the record if it is not written yet (``consent.services.surfaces.serving_to_insert``).
    """
    _answer_check(choice=choice, surface=surface, variant=variant)
    # Lockouts are noted under the decision basis (consent.services.reminders).
    lockout_policy_id = policy_basis(policy).material.pk
    basis = _decision_basis_locked(
        user=user,
        policy_id=lockout_policy_id,
        form_key=form_key,
        now=timezone.now(),
        served_id=served_id,
    )
    # Read the clock only once the user's lock is held, so decided_at order is chain order.
    now = timezone.now()
    # The live policy came with the basis unless one takes effect later (it may have by now);
    # only a form from another policy, or that case, needs the policy's row.
    settled = basis.latest_policy_id == basis.live_policy_id == policy.pk
    live = policy if settled else policy_live(now=now)
    serving = serving_to_insert(
        user=user,
        served_id=served_id,
        served_to_user_id=basis.served_to_user_id,
        form_serving=form_serving,
    )
    if basis.form_used_by is not None or basis.form_deferred:
        return _replay(user=user, choice=choice, basis=basis, live=live)
    policy_live_check(policy, live=live)

    context = context or RequestContext()
    record = consent_record_build(
        user_id=user.pk,
        policy=policy,
        choice=choice,
        surface=surface,
        variant=variant,
        arm=arm,
        toggle_touched=toggle_touched,
        learn_more_opened=learn_more_opened,
        shown_at=min(shown_at, now),
        decided_at=now,
        form_key=form_key,
        previous=basis.previous,
        ip_hash=context.ip_hash,
        user_agent=context.user_agent,
        locale=context.locale,
        jurisdiction=user.country or "",
        served_notice_id=served_id,
        shown_copy_id=serving.shown_copy_id if serving else basis.served_shown_copy_id,
        language=language,
        requested_language=requested_language,
        copy_digest=copy_digest,
    )
    # One round trip for the record, its evidence-log leaf (the one extra insert anchored
    # evidence costs, DESIGN §4 rule 7), the state and the outbox event. No savepoint
    # needed: a form key is signed for one user, whose lock is held, so a second submit of
    # the same key waits and then finds this record above; the unique constraint stays as
    # the database's guarantee.
    statements_run(
        [
            *([_serving_insert(serving)] if serving else []),
            row_insert(record, prepared=True),
            record_log_insert(
                record, previous_hash=basis.previous.record_hash if basis.previous else None
            ),
            _state_upsert(user=user, policy=policy, record=record, basis=basis),
            *_decision_event(user=user, policy=policy, record=record, basis=basis),
        ]
    )
    _after_decision(user=user, policy=policy, record=record, basis=basis)
    return Decision(record=record, replayed=False, current_choice=record.choice)


def consent_record_create(
    *,
    user,
    policy: Policy,
    choice: str,
    surface: str,
    form_key: str,
    shown_at: datetime,
    variant: ModalVariant | None = None,
    arm=None,
    toggle_touched: bool = False,
    learn_more_opened: bool = False,
    context: RequestContext | None = None,
) -> ConsentRecord:
    """``consent_decision_record`` for callers that need only the record."""
    return consent_decision_record(
        user=user,
        policy=policy,
        choice=choice,
        surface=surface,
        form_key=form_key,
        shown_at=shown_at,
        variant=variant,
        arm=arm,
        toggle_touched=toggle_touched,
        learn_more_opened=learn_more_opened,
        context=context,
    ).record


def consent_decision_submit(
    *, user, submission: Submission, context: RequestContext | None = None
) -> Decision:
    """Check a posted decision form end to end and record it (once)."""
    form = decision_form_load(submission.token, user=user)
    if form.surface == Surface.SETTINGS and gate_status(user=user, live_policy=True).blocks:
        # Settings are read-only while the gate blocks (consent.gate): the first answer comes
        # from the decision screen, whose record proves what was shown.
        raise ConsentError(errors.DECIDE_ON_DECISION_SCREEN, status=409, code="decide_first")
    policy, variant, arm = form_targets(form)
    if form.surface != Surface.SETTINGS and variant is None:
        raise ConsentError(errors.FORM_TAMPERED, code="form_tampered")
    choice = choice_from_submission(
        variant=variant, decision=submission.decision, toggle_on=submission.toggle_on
    )
    toggle_touched = submission.toggle_touched
    if variant is not None and variant.has_toggle:
        # Without JavaScript only a net change is visible; with it, any touch is reported.
        toggle_touched = toggle_touched or submission.toggle_on != variant.toggle_default
    else:
        toggle_touched = False
    return consent_decision_record(
        user=user,
        policy=policy,
        choice=choice,
        surface=form.surface,
        form_key=form.key,
        shown_at=form.shown_at,
        variant=variant,
        arm=arm,
        toggle_touched=toggle_touched,
        learn_more_opened=submission.learn_more_opened,
        context=context,
        served_id=form.served_id,
        language=form.language,
        requested_language=form.requested_language,
        copy_digest=form.copy_digest,
        form_serving=form_serving_of(form, policy=policy, variant=variant, arm=arm),
    )
