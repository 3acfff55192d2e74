"""Deadline reminders and lockout bookkeeping: batch jobs, idempotent whatever the schedule."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.landing import staff_only_q
from webhooks.models import EventType
from webhooks.services import EventDraft, events_record

from ..deadlines import deadline_text, time_left
from ..models import DeadlineReminder, Lockout, ReminderKind, UserConsentState
from ..selectors import PolicyBasis, current_policy_live, policy_basis
from ..signals import opt_ins_lapsed

logger = logging.getLogger(__name__)

REMINDER_LEAD_TIMES = {
    ReminderKind.SEVEN_DAYS: timedelta(days=7),
    ReminderKind.ONE_DAY: timedelta(days=1),
}


def _undecided_existing_users(basis: PolicyBasis):
    """Users who joined before the decision basis took effect and have not decided under
    it (a decision under any of its editorial versions counts)."""
    decided = UserConsentState.objects.filter(policy_id__in=basis.version_ids).values("user_id")
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            pseudonymised_at__isnull=True,
            date_joined__lt=basis.material.effective_at,
        )
        .exclude(pk__in=decided)
    )


def _live_basis(now: datetime) -> PolicyBasis | None:
    policy = current_policy_live(now=now)  # they write rows naming it: the database
    return policy_basis(policy) if policy is not None else None


def deadline_reminders_send(
    *, batch_size: int = 500, now: datetime | None = None
) -> dict[str, int]:
    """Email undecided chat users 7 days and 1 day before the deadline, once per kind.

    Idempotent whatever the schedule does: the (user, basis, kind) row is claimed before
    the email is sent, so a rerun or an overlapping worker skips it. Staff accounts that
    never used the chat get none (``accounts.landing.staff_only_q``). Reminders name the
    decision basis: an editorial version sends nobody a second one.
    """
    now = now or timezone.now()
    basis = _live_basis(now)
    sent = {kind.value: 0 for kind in ReminderKind}
    if basis is None or now >= basis.deadline:
        return sent
    policy, deadline = basis.material, basis.deadline
    for kind, lead in REMINDER_LEAD_TIMES.items():
        if now < deadline - lead:
            continue
        if kind == ReminderKind.SEVEN_DAYS and now >= deadline - timedelta(days=1):
            continue  # Too late for the week-ahead reminder; the day-ahead one covers it.
        already = DeadlineReminder.objects.filter(policy=policy, kind=kind).values("user_id")
        users = (
            _undecided_existing_users(basis)
            .exclude(staff_only_q())
            .exclude(pk__in=already)
            .order_by("pk")
        )
        for user in users[:batch_size]:
            _, claimed = DeadlineReminder.objects.get_or_create(
                user=user, policy=policy, kind=kind, defaults={"sent_at": now}
            )
            if not claimed:
                continue
            reminder_email(user=user, deadline=deadline, now=now).send()
            sent[kind.value] += 1
    logger.info("deadline reminders sent", extra={"policy": policy.version, **sent})
    return sent


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def reminder_email(*, user, deadline: datetime, now: datetime) -> EmailMultiAlternatives:
    """The reminder: the deadline in the person's zone, the time really left, and links
    straight to the decision screen and to privacy settings (``templates/emails/consent``)."""
    # In the person's own language (their saved one, else the site's): a task has no request.
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return _reminder_email(user=user, deadline=deadline, now=now)


def _reminder_email(*, user, deadline: datetime, now: datetime) -> EmailMultiAlternatives:
    context = {
        "product_name": settings.PRODUCT_NAME,
        "deadline": deadline_text(deadline, user=user),
        "time_left": time_left(deadline, now=now, user=user),
        "decide_url": _absolute(reverse("consent:decide")),
        "settings_url": _absolute(reverse("consent:privacy_settings")),
        "site_url": settings.SITE_URL,
    }
    base = "emails/consent/deadline_reminder"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{base}.txt", context), to=[user.email]
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return message


def lockouts_record(
    *, batch_size: int = 1000, max_batches: int = 20, now: datetime | None = None
) -> int:
    """Note when each still-undecided user became locked out, and recompute lapsed chats.

    The gate locks them by itself at the deadline; this is bookkeeping (the Lockout row
    and its outbox event) plus retention: an opt-in under the previous decision basis kept
    its retention only until this deadline (DESIGN §4 rule 2), so every run asks
    conversations to recompute the chats whose opt-in lapsed (``consent.signals
    .opt_ins_lapsed``). Bounded: at most ``max_batches`` batches of each per run; the next
    run picks up where this one stopped. Returns the number of users locked out.
    """
    now = now or timezone.now()
    policy = current_policy_live(now=now)  # they write rows naming it: the database
    if policy is None:
        return 0
    opt_ins_lapsed.send(
        sender=Lockout, policy=policy, now=now, batch_size=batch_size, max_batches=max_batches
    )
    basis = policy_basis(policy)
    if now < basis.deadline:
        return 0
    total = 0
    for _ in range(max_batches):
        locked = _lockouts_batch(basis=basis, batch_size=batch_size, now=now)
        total += locked
        if locked < batch_size:
            break
    return total


@transaction.atomic
def _lockouts_batch(*, basis: PolicyBasis, batch_size: int, now: datetime) -> int:
    policy = basis.material
    noted = Lockout.objects.filter(policy=policy).values("user_id")
    users = list(
        _undecided_existing_users(basis)
        .exclude(pk__in=noted)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    if not users:
        return 0
    Lockout.objects.bulk_create(
        [
            Lockout(user_id=pk, policy=policy, locked_at=basis.deadline, recorded_at=now)
            for pk in users
        ],
        ignore_conflicts=True,
    )
    # The rows this run wrote (a concurrent run's have another recorded_at): their
    # outbox events commit with them.
    written = Lockout.objects.filter(policy=policy, user_id__in=users, recorded_at=now)
    events_record(
        drafts=[
            EventDraft(
                type=EventType.CONSENT_LOCKOUT,
                user_id=user_id,
                record_id=lockout_id,
                occurred_at=now,
                data={
                    "policy_version": policy.version,
                    "locked_at": basis.deadline.isoformat(),
                },
            )
            for lockout_id, user_id in written.values_list("pk", "user_id")
        ]
    )
    return len(users)
