"""Coverage and retention follow the decision (DESIGN §4 rule 2), reminders and lockouts."""

import secrets
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from consent.models import Choice, ConsentRecord, DeadlineReminder, Lockout, Surface
from consent.services import consent_record_create, deadline_reminders_send, lockouts_record
from conversations.models import Conversation
from conversations.services import conversation_start, message_post

from .factories import variant

pytestmark = pytest.mark.django_db


def decide(user, policy, choice, key=None):
    return consent_record_create(
        user=user,
        policy=policy,
        choice=choice,
        surface=Surface.SETTINGS,
        form_key=key or secrets.token_hex(16),
        shown_at=timezone.now(),
        variant=None,
    )


def test_conversation_posted_while_opted_in_is_covered_and_kept_5_years(existing_user, policy):
    record = decide(existing_user, policy, Choice.OPT_IN)

    conversation = conversation_start(user=existing_user, text="hello")

    assert conversation.covered_by == record
    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=1825)


def test_conversation_from_before_the_decision_is_not_covered_until_reopened(existing_user, policy):
    conversation = conversation_start(user=existing_user, text="before")
    decide(existing_user, policy, Choice.OPT_IN)
    conversation.refresh_from_db()
    assert conversation.covered_by is None
    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=30)

    message_post(conversation=conversation, text="reopened")

    conversation.refresh_from_db()
    assert conversation.covered_by is not None
    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=1825)


def test_opting_out_puts_every_conversation_on_30_days(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    kept = conversation_start(user=existing_user, text="covered")

    decide(existing_user, policy, Choice.OPT_OUT)

    kept.refresh_from_db()
    assert kept.retain_until == kept.last_activity_at + timedelta(days=30)


def test_opting_in_again_does_not_revive_coverage_from_an_earlier_opt_in(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    old = conversation_start(user=existing_user, text="covered once")
    decide(existing_user, policy, Choice.OPT_OUT)

    decide(existing_user, policy, Choice.OPT_IN)

    old.refresh_from_db()
    assert old.retain_until == old.last_activity_at + timedelta(days=30)


def test_confirming_opt_in_keeps_coverage_of_the_current_run(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    kept = conversation_start(user=existing_user, text="covered")

    decide(existing_user, policy, Choice.OPT_IN)

    kept.refresh_from_db()
    assert kept.retain_until == kept.last_activity_at + timedelta(days=1825)


def test_recompute_is_one_update_for_all_conversations(
    existing_user, policy, django_assert_max_num_queries
):
    for n in range(5):
        conversation_start(user=existing_user, text=f"chat {n}")
    from conversations.services import conversation_retention_recompute_for_user

    with django_assert_max_num_queries(4):  # any conversations?, policy, state, the UPDATE
        updated = conversation_retention_recompute_for_user(user=existing_user)

    assert updated == 5


def test_admin_edited_retention_periods_are_used(existing_user, policy):
    policy.opt_out_retention = timedelta(days=7)
    policy.save(update_fields=["opt_out_retention"])

    conversation = conversation_start(user=existing_user, text="short")

    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=7)


# Reminders and lockouts.


def test_reminders_go_once_per_kind_whatever_the_schedule_does(existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(days=6)):
        first = deadline_reminders_send()
        again = deadline_reminders_send()

    assert first["7d"] == 1 and again["7d"] == 0
    assert len(mail.outbox) == 1
    assert DeadlineReminder.objects.filter(user=existing_user, kind="7d").count() == 1


def test_one_day_reminder_follows_the_week_reminder(existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(days=6)):
        deadline_reminders_send()
    with time_machine.travel(policy.decision_deadline - timedelta(hours=20)):
        deadline_reminders_send()
        deadline_reminders_send()

    assert sorted(DeadlineReminder.objects.values_list("kind", flat=True)) == ["1d", "7d"]
    assert len(mail.outbox) == 2


def test_decided_and_new_users_get_no_reminder(existing_user, new_user, policy):
    decide(existing_user, policy, Choice.OPT_OUT)

    with time_machine.travel(policy.decision_deadline - timedelta(days=3)):
        deadline_reminders_send()

    assert mail.outbox == []


def test_no_reminder_before_the_week_window_or_after_the_deadline(existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(days=10)):
        deadline_reminders_send()
    with time_machine.travel(policy.decision_deadline + timedelta(hours=1)):
        deadline_reminders_send()

    assert mail.outbox == []


def test_lockout_is_recorded_once_for_undecided_users_after_the_deadline(existing_user, policy):
    with time_machine.travel(policy.decision_deadline + timedelta(minutes=5)):
        assert lockouts_record() == 1
        assert lockouts_record() == 0

    lockout = Lockout.objects.get()
    assert (lockout.user, lockout.locked_at) == (existing_user, policy.decision_deadline)


def test_deciding_resolves_the_lockout(existing_user, policy):
    with time_machine.travel(policy.decision_deadline + timedelta(minutes=5)):
        lockouts_record()
        decide(existing_user, policy, Choice.OPT_OUT)

    assert Lockout.objects.get().resolved_at is not None


def test_tasks_wrap_the_services(existing_user, policy):
    from consent import tasks

    with time_machine.travel(policy.decision_deadline + timedelta(minutes=5)):
        tasks.record_lockouts.delay()

    assert Lockout.objects.count() == 1
    assert tasks.verify_consent_chains() == 0


# Exactly once under concurrency (PostgreSQL: real row locks between connections).


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_one_form_record_exactly_once(django_user_model):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between real connections")
    from .factories import PolicyFactory

    policy = PolicyFactory()
    user = django_user_model.objects.create_user(
        "racer@example.com", "x-correct-horse", date_joined=timezone.now() - timedelta(days=30)
    )
    key = secrets.token_hex(16)
    two_buttons = variant("two_buttons") if _variants_seeded() else None
    barrier = threading.Barrier(8)
    results, failures = [], []

    def submit():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            record = consent_record_create(
                user=user,
                policy=policy,
                choice=Choice.OPT_IN,
                surface=Surface.EXISTING_NOTICE,
                form_key=key,
                shown_at=timezone.now(),
                variant=two_buttons,
            )
            results.append(record.pk)
        except Exception as exc:
            failures.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(set(results)) == 1
    assert ConsentRecord.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_different_decisions_keep_one_unforked_chain(django_user_model):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between real connections")
    from consent.services import consent_chains_verify

    from .factories import PolicyFactory

    policy = PolicyFactory()
    user = django_user_model.objects.create_user(
        "tabs@example.com", "x-correct-horse", date_joined=timezone.now() - timedelta(days=30)
    )
    barrier = threading.Barrier(6)

    def submit(n):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            decide(user, policy, Choice.OPT_IN if n % 2 else Choice.OPT_OUT)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert ConsentRecord.objects.filter(user=user).count() == 6
    assert ConsentRecord.objects.filter(user=user, previous__isnull=True).count() == 1
    assert list(consent_chains_verify()) == []
    latest = ConsentRecord.objects.filter(user=user).order_by("-decided_at").first()
    from consent.models import UserConsentState

    assert UserConsentState.objects.get(user=user).latest_record_id == latest.pk


def _variants_seeded() -> bool:
    from consent.models import ModalVariant

    return ModalVariant.objects.filter(key="two_buttons").exists()


def test_conversation_model_has_indexed_retain_until():
    assert Conversation._meta.get_field("retain_until").db_index
