"""Deadline reminders and lockout bookkeeping: batch jobs, idempotent whatever the schedule."""

import logging
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from webhooks.models import EventType
from webhooks.services import EventDraft, events_record

from ..models import DeadlineReminder, Lockout, Policy, ReminderKind, UserConsentState
from ..selectors import current_policy_live

logger = logging.getLogger(__name__)

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
    policy = current_policy_live(now=now)  # they write rows naming it: the database
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


def _reminder_email(*, user, policy: Policy, kind: str) -> EmailMessage:
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
    policy = current_policy_live(now=now)  # they write rows naming it: the database
    if policy is None or now < policy.decision_deadline:
        return 0
    noted = Lockout.objects.filter(policy=policy).values("user_id")
    users = list(
        _undecided_existing_users(policy)
        .exclude(pk__in=noted)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    with transaction.atomic():
        Lockout.objects.bulk_create(
            [
                Lockout(
                    user_id=pk, policy=policy, locked_at=policy.decision_deadline, recorded_at=now
                )
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
                        "locked_at": policy.decision_deadline.isoformat(),
                    },
                )
                for lockout_id, user_id in written.values_list("pk", "user_id")
            ]
        )
    return len(users)
