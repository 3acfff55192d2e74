"""Deadline reminders and lockout bookkeeping when another worker overlaps, or no policy is
in effect yet: nobody gets a second email, and nothing is recorded."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models.signals import post_save
from django.utils import timezone

from consent.models import DeadlineReminder, Lockout, ReminderKind
from consent.services import deadline_reminders_send, lockouts_record
from consent.signals import opt_ins_lapsed

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db


def undecided_users(django_user_model, policy, count: int):
    return [
        django_user_model.objects.create_user(
            f"undecided{i}@example.com",
            "pw-12345678",
            date_joined=policy.effective_at - timedelta(days=90),
        )
        for i in range(count)
    ]


def test_a_reminder_another_worker_claimed_mid_batch_is_not_sent_again(django_user_model, policy):
    first, second = undecided_users(django_user_model, policy, 2)
    now = policy.decision_deadline - timedelta(days=3)
    other_worker_at = now - timedelta(minutes=1)

    def other_worker_claims_the_next(sender, instance, created, **kwargs):
        # After this run selected both users, an overlapping run claims the second one.
        if created and instance.user_id == first.pk:
            DeadlineReminder.objects.create(
                user=second, policy=policy, kind=instance.kind, sent_at=other_worker_at
            )

    post_save.connect(other_worker_claims_the_next, sender=DeadlineReminder, weak=False)
    try:
        sent = deadline_reminders_send(now=now)
    finally:
        post_save.disconnect(other_worker_claims_the_next, sender=DeadlineReminder)

    assert sent == {ReminderKind.SEVEN_DAYS.value: 1, ReminderKind.ONE_DAY.value: 0}
    assert [email.to for email in mail.outbox] == [[first.email]]
    assert DeadlineReminder.objects.get(user=second).sent_at == other_worker_at


def test_before_any_policy_takes_effect_the_lockout_task_records_nothing(django_user_model):
    upcoming = PolicyFactory(effective_at=timezone.now() + timedelta(days=1))
    undecided_users(django_user_model, upcoming, 2)
    lapsed_runs = []

    def lapsed(sender, **kwargs):
        lapsed_runs.append(kwargs)

    opt_ins_lapsed.connect(lapsed, weak=False)
    try:
        locked = lockouts_record(now=upcoming.decision_deadline - timedelta(days=60))
    finally:
        opt_ins_lapsed.disconnect(lapsed)

    assert locked == 0
    assert not Lockout.objects.exists()
    assert lapsed_runs == []  # no retention recompute without a policy to compute it by
