"""Writes for consent: issuing decision forms, recording decisions, deferrals.

Every decision is one append-only ``ConsentRecord`` plus the user's
``UserConsentState``, written in one transaction (DESIGN §3, §4 rule 4).
"""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import errors
from .chain import chain_verify_user, record_hash_compute
from .errors import ConsentError
from .models import (
    Choice,
    ConsentRecord,
    DeadlineReminder,
    Lockout,
    ModalVariant,
    NoticeDeferral,
    Policy,
    ReminderKind,
    Surface,
    UsedFormKey,
    UserConsentState,
)
from .selectors import (
    SESSION_DEFERRED_KEY,
    current_policy,
    gate_status,
    variant_by_key,
    variants_memo,
)
from .signals import decision_recorded

logger = logging.getLogger(__name__)

FORM_SALT = "consent.decision-form"


@dataclass(frozen=True)
class RequestContext:
    """What a record keeps of the request: never the raw IP address."""

    ip_hash: str = ""
    user_agent: str = ""
    locale: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestContext":
        ip = request.META.get("REMOTE_ADDR", "")
        ip_hash = hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest() if ip else ""
        return cls(
            ip_hash=ip_hash,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
            locale=(getattr(request, "LANGUAGE_CODE", "") or "")[:35],
        )


@dataclass(frozen=True)
class DecisionForm:
    """The signed facts of one rendered decision form."""

    key: str
    user_id: int
    policy_version: str
    surface: str
    variant_key: str | None
    variant_digest: str | None  # ModalVariant.snapshot_digest() of the copy rendered
    arm_id: int | None
    shown_at: datetime

    def token(self) -> str:
        return signing.dumps(
            {
                "k": self.key,
                "u": self.user_id,
                "p": self.policy_version,
                "s": self.surface,
                "v": self.variant_key,
                "d": self.variant_digest,
                "a": self.arm_id,
                "t": self.shown_at.isoformat(),
            },
            salt=FORM_SALT,
        )


def decision_form_issue(
    *, user, policy: Policy, surface: str, variant: ModalVariant | None, arm=None
) -> DecisionForm:
    """A new one-time form for the user; the server's clock fixes ``shown_at``."""
    return DecisionForm(
        key=secrets.token_hex(16),
        user_id=user.pk,
        policy_version=policy.version,
        surface=surface,
        variant_key=variant.key if variant else None,
        variant_digest=variant.snapshot_digest() if variant else None,
        arm_id=arm.pk if arm else None,
        shown_at=timezone.now(),
    )


def decision_form_load(token: str, *, user) -> DecisionForm:
    """Verify a submitted form token: signature, age, owner. Raises ConsentError."""
    try:
        data = signing.loads(token, salt=FORM_SALT, max_age=settings.CONSENT_FORM_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise ConsentError(errors.FORM_EXPIRED, status=400, code="form_expired") from exc
    except signing.BadSignature as exc:
        raise ConsentError(errors.FORM_TAMPERED, status=400, code="form_tampered") from exc
    try:
        form = DecisionForm(
            key=str(data["k"]),
            user_id=int(data["u"]),
            policy_version=str(data["p"]),
            surface=str(data["s"]),
            variant_key=data["v"],
            variant_digest=data.get("d"),
            arm_id=data["a"],
            shown_at=parse_datetime(data["t"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConsentError(errors.FORM_TAMPERED, status=400, code="form_tampered") from exc
    if form.user_id != user.pk:
        raise ConsentError(errors.FORM_OTHER_USER, status=403, code="form_other_user")
    if form.surface not in Surface.values or form.shown_at is None:
        raise ConsentError(errors.FORM_TAMPERED, status=400, code="form_tampered")
    return form


def choice_from_submission(*, variant: ModalVariant | None, decision: str, toggle_on: bool) -> str:
    """Map the pressed button (and the toggle, on toggle designs) to a choice.

    On toggle designs Accept submits the toggle's current state, so accepting
    without touching a default-on toggle opts in: that is the design under test.
    """
    if variant is not None and variant.has_toggle:
        if decision != "accept":
            raise ConsentError(errors.INVALID_CHOICE, code="invalid_choice")
        return Choice.OPT_IN if toggle_on else Choice.OPT_OUT
    if decision in Choice.values:
        return decision
    raise ConsentError(errors.INVALID_CHOICE, code="invalid_choice")


@transaction.atomic
def variant_make_default(variant: ModalVariant) -> ModalVariant:
    """Show this design wherever no experiment chooses one (at most one default, by constraint)."""
    for previous in ModalVariant.objects.select_for_update().filter(is_default=True):
        if previous.pk != variant.pk:
            previous.is_default = False
            previous.save(update_fields=["is_default"])  # save(), not update(): memos hear it
    variant.is_default = True
    variant.save(update_fields=["is_default"])
    return variant


def _lock_user(user) -> None:
    """Serialise one user's decisions: the user row is always locked first.

    Its own statement: a read that waited for this lock must start after it is granted,
    or under READ COMMITTED it would see the user's chain as it was before the wait.
    """
    User = get_user_model()
    sql = f"SELECT 1 FROM {User._meta.db_table} WHERE {User._meta.pk.column} = %s"
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])


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


# Hand-written for the same reason as the gate's query (consent.selectors): one statement
# instead of five ORM queries, whose compiling cost more than the database's answering.
_DECISION_BASIS_SQL = """
    SELECT
        (SELECT r.id FROM consent_consentrecord r WHERE r.form_key = %(key)s),
        EXISTS (SELECT 1 FROM consent_usedformkey k WHERE k.key = %(key)s),
        s.policy_id, s.choice, s.opt_in_since_id, s.latest_record_id, latest.record_hash,
        EXISTS (SELECT 1 FROM consent_lockout l
                WHERE l.user_id = %(user)s AND l.policy_id = %(policy)s
                  AND l.resolved_at IS NULL),
        EXISTS (SELECT 1 FROM conversations_conversation c
                WHERE c.user_id = %(user)s AND c.deleted_by_user_at IS NULL)
    FROM (SELECT 1) AS one
    LEFT JOIN consent_userconsentstate s ON s.user_id = %(user)s
    LEFT JOIN consent_consentrecord latest ON latest.id = s.latest_record_id
"""


# One statement whether this is the user's first decision or a change (PostgreSQL and
# SQLite both have ON CONFLICT); hand-written, as the ORM's upsert took longer to compile.
_STATE_UPSERT_SQL = """
    INSERT INTO consent_userconsentstate
        (user_id, policy_id, choice, latest_record_id, opt_in_since_id, decided_at)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (user_id) DO UPDATE SET
        policy_id = EXCLUDED.policy_id,
        choice = EXCLUDED.choice,
        latest_record_id = EXCLUDED.latest_record_id,
        opt_in_since_id = EXCLUDED.opt_in_since_id,
        decided_at = EXCLUDED.decided_at
"""


def _state_upsert(
    *,
    user_id: int,
    policy_id: int,
    choice: str,
    latest_record_id: uuid.UUID,
    opt_in_since_id: uuid.UUID | None,
    decided_at: datetime,
) -> None:
    def prep(field: str, value):  # UUIDs and datetimes as this database stores them
        return UserConsentState._meta.get_field(field).get_db_prep_save(value, connection)

    params = [
        prep("user", user_id),
        prep("policy", policy_id),
        choice,
        prep("latest_record", latest_record_id),
        prep("opt_in_since", opt_in_since_id),
        prep("decided_at", decided_at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_STATE_UPSERT_SQL, params)


def _decision_basis(*, user_id: int, policy_id: int, form_key: str) -> DecisionBasis:
    with connection.cursor() as cursor:
        cursor.execute(_DECISION_BASIS_SQL, {"key": form_key, "user": user_id, "policy": policy_id})
        row = cursor.fetchone()
    (used_by, deferred, policy, choice, opt_in_since, latest_id, latest_hash, lockout, chats) = row
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
    )


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
) -> ConsentRecord:
    """An unsaved record with the design's copy frozen in and its chain hash computed.

    The one place a record's evidence fields are filled, for the service below and for
    anything that writes records in bulk (the experiments demo, test data).
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
    )
    record.record_hash = record_hash_compute(record, previous.record_hash if previous else None)
    return record


@transaction.atomic
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
    """Record one decision, exactly once per form key, and update the user's state.

    A second submit of the same form returns the first record unchanged (a
    double click, a retry, a second tab); a different answer on the same form
    is refused.
    """
    if choice not in Choice.values:
        raise ConsentError(errors.INVALID_CHOICE, code="invalid_choice")
    if surface not in Surface.values:
        raise ConsentError(errors.FORM_TAMPERED, code="form_tampered")
    now = timezone.now()
    live_policy = current_policy(now=now)
    if live_policy is None:
        raise ConsentError(errors.NO_POLICY, status=409, code="no_policy")
    if live_policy.pk != policy.pk:
        raise ConsentError(errors.POLICY_SUPERSEDED, status=409, code="policy_superseded")
    if variant is not None and not variant.offered_on(surface):
        raise ConsentError(errors.VARIANT_NOT_OFFERED, code="variant_not_offered")

    _lock_user(user)
    # Read the clock only once the user's lock is held, so decided_at order is chain order.
    now = timezone.now()
    basis = _decision_basis(user_id=user.pk, policy_id=policy.pk, form_key=form_key)
    if basis.form_used_by is not None or basis.form_deferred:
        existing = ConsentRecord.objects.filter(pk=basis.form_used_by).first()
        if existing is not None and existing.user_id == user.pk and existing.choice == choice:
            return existing
        raise ConsentError(errors.FORM_ALREADY_USED, status=409, code="form_already_used")

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
    )
    # No savepoint needed: a form key is signed for one user, and that user's lock is
    # held, so a second submit of the same key waits and then finds this record above.
    # The unique constraint stays as the database's guarantee.
    record.save(force_insert=True)

    continuing_opt_in = (
        basis.state_policy_id == policy.pk
        and basis.state_choice == Choice.OPT_IN
        and choice == Choice.OPT_IN
    )
    opt_in_since_id = None
    if choice == Choice.OPT_IN:
        opt_in_since_id = basis.opt_in_since_id if continuing_opt_in else record.pk
    _state_upsert(
        user_id=user.pk,
        policy_id=policy.pk,
        choice=choice,
        latest_record_id=record.pk,
        opt_in_since_id=opt_in_since_id,
        decided_at=now,
    )
    if basis.open_lockout:
        Lockout.objects.filter(user=user, policy=policy, resolved_at__isnull=True).update(
            resolved_at=now
        )
    if basis.has_conversations:
        # conversations recomputes their retain_until (DESIGN §4 rule 2) in this transaction.
        decision_recorded.send(sender=ConsentRecord, user=user, policy=policy, now=now)
    logger.info(
        "consent decision recorded",
        extra={
            "record_id": str(record.pk),
            "user_id": user.pk,
            "choice": choice,
            "surface": surface,
        },
    )
    return record


@transaction.atomic
def notice_defer(
    *, user, policy: Policy, form_key: str, session=None, variant=None, arm=None
) -> NoticeDeferral:
    """ "Not now" on the existing-user notice; never past the deadline, never for new users."""
    now = timezone.now()
    if now >= policy.decision_deadline:
        raise ConsentError(errors.DEFER_PAST_DEADLINE, status=409, code="deadline_passed")
    if user.date_joined >= policy.effective_at:
        raise ConsentError(errors.DEFER_NOT_ALLOWED, status=409, code="not_deferrable")
    live_policy = current_policy(now=now)
    if live_policy is None or live_policy.pk != policy.pk:
        raise ConsentError(errors.POLICY_SUPERSEDED, status=409, code="policy_superseded")
    _lock_user(user)
    if ConsentRecord.objects.filter(form_key=form_key).exists():
        raise ConsentError(errors.FORM_ALREADY_USED, status=409, code="form_already_used")
    _, created = UsedFormKey.objects.get_or_create(key=form_key, defaults={"used_at": now})
    if not created:
        # A replayed "Not now": the first one already hid the notice.
        existing = NoticeDeferral.objects.filter(user=user, policy=policy).first()
        if existing is not None:
            return existing
    hidden_until = min(
        now + timedelta(hours=settings.CONSENT_NOTICE_DEFER_HOURS), policy.decision_deadline
    )
    deferral = NoticeDeferral.objects.create(
        user=user,
        policy=policy,
        variant=variant,
        arm=arm,
        deferred_at=now,
        hidden_until=hidden_until,
    )
    if session is not None:
        session[SESSION_DEFERRED_KEY] = policy.version
    return deferral


def consent_chains_verify(*, user_ids: list[int] | None = None, batch_size: int = 500):
    """Yield every break in every user's chain, a batch of users at a time."""
    users = ConsentRecord.objects.values_list("user_id", flat=True).distinct().order_by("user_id")
    if user_ids is not None:
        users = users.filter(user_id__in=user_ids)
    user_list = list(users)
    for start in range(0, len(user_list), batch_size):
        chunk = user_list[start : start + batch_size]
        records_by_user: dict[int, list[ConsentRecord]] = {uid: [] for uid in chunk}
        for record in ConsentRecord.objects.filter(user_id__in=chunk).order_by("decided_at"):
            records_by_user[record.user_id].append(record)
        for records in records_by_user.values():
            yield from chain_verify_user(records)


@dataclass(frozen=True)
class Submission:
    """A decision form as posted: the signed token plus what the person did."""

    token: str
    decision: str
    toggle_on: bool = False
    toggle_touched: bool = False
    learn_more_opened: bool = False


def _variant_as_shown(form: DecisionForm) -> ModalVariant | None:
    """The design the form was rendered with, exactly as it read then, or ConsentError.

    The record freezes the design's copy as evidence of what the person saw, so a form
    rendered before an admin edited the wording is refused rather than recorded with
    wording the person never read.
    """
    if not form.variant_key:
        return None
    variant = variant_by_key(form.variant_key)
    if variant is None or variant.snapshot_digest() != form.variant_digest:
        # This process's memo may be older than the one that rendered the form.
        variants_memo.forget()
        variant = ModalVariant.objects.filter(key=form.variant_key).first()
        if variant is None:
            raise ConsentError(errors.FORM_TAMPERED, code="form_tampered")
        if variant.snapshot_digest() != form.variant_digest:
            raise ConsentError(errors.DESIGN_CHANGED, status=409, code="design_changed")
    return variant


def _form_targets(form: DecisionForm) -> tuple[Policy, ModalVariant | None, object | None]:
    from experiments.models import Arm
    from experiments.services import arm_offered

    policy = current_policy()
    if policy is None:
        raise ConsentError(errors.NO_POLICY, status=409, code="no_policy")
    if policy.version != form.policy_version:
        if Policy.objects.filter(version=form.policy_version).exists():
            raise ConsentError(errors.POLICY_SUPERSEDED, status=409, code="policy_superseded")
        raise ConsentError(errors.FORM_TAMPERED, code="form_tampered")
    variant = _variant_as_shown(form)
    try:
        arm = Arm.objects.get(pk=form.arm_id) if form.arm_id else None
    except Arm.DoesNotExist as exc:
        raise ConsentError(errors.FORM_TAMPERED, code="form_tampered") from exc
    if arm is not None and arm.variant_id != getattr(variant, "pk", None):
        raise ConsentError(errors.VARIANT_NOT_OFFERED, code="variant_not_offered")
    if arm is not None and not arm_offered(form.user_id, arm):
        raise ConsentError(errors.VARIANT_NOT_OFFERED, code="variant_not_offered")
    return policy, variant, arm


def consent_decision_submit(
    *, user, submission: Submission, context: RequestContext | None = None
) -> ConsentRecord:
    """Check a posted decision form end to end and record it (once)."""
    form = decision_form_load(submission.token, user=user)
    if form.surface == Surface.SETTINGS and gate_status(user=user, live_policy=True).blocks:
        # Settings are read-only while the gate blocks (consent.gate): the first answer comes
        # from the decision screen, whose record proves what was shown.
        raise ConsentError(errors.DECIDE_ON_DECISION_SCREEN, status=409, code="decide_first")
    policy, variant, arm = _form_targets(form)
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
    return consent_record_create(
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
    )


def notice_defer_submit(*, user, token: str, session=None) -> NoticeDeferral:
    """Check a posted "Not now" and record the deferral."""
    form = decision_form_load(token, user=user)
    if form.surface != Surface.EXISTING_NOTICE:
        raise ConsentError(errors.DEFER_NOT_ALLOWED, status=409, code="not_deferrable")
    policy, variant, arm = _form_targets(form)
    return notice_defer(
        user=user, policy=policy, form_key=form.key, session=session, variant=variant, arm=arm
    )


REMINDER_LEAD_TIMES = {
    ReminderKind.SEVEN_DAYS: timedelta(days=7),
    ReminderKind.ONE_DAY: timedelta(days=1),
}


def _undecided_existing_users(policy: Policy):
    """Users who joined before the policy and have not decided under it."""
    decided = UserConsentState.objects.filter(policy=policy).values("user_id")
    return (
        get_user_model()
        .objects.filter(
            is_active=True, pseudonymised_at__isnull=True, date_joined__lt=policy.effective_at
        )
        .exclude(pk__in=decided)
    )


def deadline_reminders_send(
    *, batch_size: int = 500, now: datetime | None = None
) -> dict[str, int]:
    """Email undecided users 7 days and 1 day before the deadline, once per kind.

    Idempotent whatever the schedule does: the (user, policy, kind) row is
    claimed before the email is sent, so a rerun or an overlapping worker skips it.
    """
    now = now or timezone.now()
    policy = current_policy(now=now)
    sent = {kind.value: 0 for kind in ReminderKind}
    if policy is None or now >= policy.decision_deadline:
        return sent
    for kind, lead in REMINDER_LEAD_TIMES.items():
        if now < policy.decision_deadline - lead:
            continue
        if kind == ReminderKind.SEVEN_DAYS and now >= policy.decision_deadline - timedelta(days=1):
            continue  # Too late for the week-ahead reminder; the day-ahead one covers it.
        already = DeadlineReminder.objects.filter(policy=policy, kind=kind).values("user_id")
        users = _undecided_existing_users(policy).exclude(pk__in=already).order_by("pk")
        for user in users[:batch_size]:
            _, claimed = DeadlineReminder.objects.get_or_create(
                user=user, policy=policy, kind=kind, defaults={"sent_at": now}
            )
            if not claimed:
                continue
            _reminder_email(user=user, policy=policy, kind=kind).send()
            sent[kind.value] += 1
    logger.info("deadline reminders sent", extra={"policy": policy.version, **sent})
    return sent


def _reminder_email(*, user, policy: Policy, kind: str):
    from django.core.mail import EmailMessage

    when = "in 7 days" if kind == ReminderKind.SEVEN_DAYS else "tomorrow"
    body = (
        f"Hello,\n\nPlease tell us whether your chats may be used to train our models. "
        f"The deadline is {policy.decision_deadline:%d %B %Y, %H:%M %Z} ({when}). "
        "After it, you will need to choose before you can keep chatting; either answer works.\n\n"
        "You can decide the next time you sign in, or any time in Privacy settings.\n"
    )
    return EmailMessage(
        subject=f"Decide by {policy.decision_deadline:%d %B}: may your chats be used for training?",
        body=body,
        to=[user.email],
    )


def lockouts_record(*, batch_size: int = 1000, now: datetime | None = None) -> int:
    """Note when each still-undecided user became locked out (bookkeeping only)."""
    now = now or timezone.now()
    policy = current_policy(now=now)
    if policy is None or now < policy.decision_deadline:
        return 0
    noted = Lockout.objects.filter(policy=policy).values("user_id")
    users = list(
        _undecided_existing_users(policy)
        .exclude(pk__in=noted)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    Lockout.objects.bulk_create(
        [
            Lockout(user_id=pk, policy=policy, locked_at=policy.decision_deadline, recorded_at=now)
            for pk in users
        ],
        ignore_conflicts=True,
    )
    return len(users)
