from datetime import timedelta
from itertools import pairwise

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import conversation_start
from retention import errors
from retention.models import Hold, RetentionRun, RunStatus
from retention.services import retention_purge_plan, retention_purge_run
from tests.factories import ConversationFactory, UserFactory

from .conftest import T, conversation_due_in, exists, opt_in, opt_out

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


# --- The retention rules, end to end ------------------------------------------------------


def test_opted_out_conversation_is_purged_after_30_days(policy):
    user = UserFactory()
    with time_machine.travel(policy.effective_at + DAY, tick=False) as traveller:
        opt_out(user, policy)
        conversation = conversation_start(user=user, text="a question")

        traveller.shift(29 * DAY)
        retention_purge_run()
        assert exists(conversation)

        traveller.shift(DAY + timedelta(seconds=1))
        retention_purge_run()

    assert not exists(conversation)


def test_opted_in_covered_conversation_is_kept_until_five_years(policy):
    user = UserFactory()
    with time_machine.travel(policy.effective_at + DAY, tick=False) as traveller:
        opt_in(user, policy)
        conversation = conversation_start(user=user, text="a question")
        assert conversation.covered_by is not None

        traveller.shift(1825 * DAY - timedelta(seconds=1))
        retention_purge_run()
        assert exists(conversation)

        traveller.shift(timedelta(seconds=2))
        retention_purge_run()

    assert not exists(conversation)


def test_run_deletes_before_cutoff_and_keeps_from_cutoff_on():
    before = conversation_due_in(-timedelta(microseconds=1), now=T)
    at = conversation_due_in(timedelta(0), now=T)
    after = conversation_due_in(timedelta(microseconds=1), now=T)

    run = retention_purge_run(now=T)

    assert [exists(c) for c in (before, at, after)] == [False, True, True]
    assert run.cutoff == T
    assert run.conversations_deleted == 1


def test_messages_go_with_their_conversation():
    due = conversation_due_in(-DAY, messages=3)
    kept = conversation_due_in(DAY, messages=2)

    run = retention_purge_run()

    assert not Message.objects.filter(conversation_id=due.pk).exists()
    assert Message.objects.filter(conversation_id=kept.pk).count() == 2
    assert run.messages_deleted == 3


def test_run_records_what_it_deleted():
    conversation_due_in(-DAY, messages=2)
    conversation_due_in(-DAY, messages=1)

    run = retention_purge_run(batch_size=1)

    stored = RetentionRun.objects.get(pk=run.pk)
    assert stored.status == RunStatus.SUCCEEDED
    assert (stored.conversations_deleted, stored.messages_deleted) == (2, 3)
    assert stored.batches == 2
    assert stored.exhausted
    assert stored.finished_at is not None
    assert stored.worker


def test_dry_run_counts_and_deletes_nothing():
    due = conversation_due_in(-DAY, messages=4)
    conversation_due_in(DAY)

    run = retention_purge_run(dry_run=True)

    assert exists(due)
    assert Message.objects.filter(conversation_id=due.pk).count() == 4
    assert run.dry_run
    assert (run.conversations_deleted, run.messages_deleted) == (1, 4)


def test_spent_holds_go_with_their_conversation(holder):
    conversation = conversation_due_in(-DAY)
    Hold.objects.create(
        conversation=conversation,
        reason="closed case",
        created_at=timezone.now() - 2 * DAY,
        released_at=timezone.now() - DAY,
    )

    retention_purge_run()

    assert not exists(conversation)
    assert not Hold.objects.exists()


def test_purge_knows_every_table_that_points_at_conversations():
    # The purge deletes with raw statements, no ORM cascade: a new foreign key to
    # Conversation needs its own DELETE in retention.services._batch_delete.
    pointing = {
        (relation.related_model._meta.label, relation.field.name)
        for relation in Conversation._meta.related_objects
    }

    assert pointing == {
        ("conversations.Message", "conversation"),
        ("retention.Hold", "conversation"),
    }


# --- Batches, resuming, bounded work ---------------------------------------------------------


def test_run_stops_after_max_batches_and_the_next_run_finishes():
    conversations = [conversation_due_in(-DAY) for _ in range(5)]

    first = retention_purge_run(batch_size=2, max_batches=1)
    assert first.conversations_deleted == 2
    assert not first.exhausted

    second = retention_purge_run(batch_size=2, max_batches=10)

    assert second.conversations_deleted == 3
    assert second.exhausted
    assert not any(exists(c) for c in conversations)


def test_crash_mid_run_keeps_committed_batches_and_the_next_run_continues(monkeypatch):
    conversations = [conversation_due_in(-DAY) for _ in range(6)]
    from retention import services

    real_batch_delete = services._batch_delete
    calls = []

    def crash_on_second_batch(pks, *, cutoff):
        calls.append(pks)
        deleted = real_batch_delete(pks, cutoff=cutoff)
        if len(calls) == 2:
            raise ConnectionError("worker lost")
        return deleted

    monkeypatch.setattr(services, "_batch_delete", crash_on_second_batch)
    with pytest.raises(ConnectionError):
        retention_purge_run(batch_size=2)

    crashed = RetentionRun.objects.get()
    assert crashed.status == RunStatus.FAILED
    assert "worker lost" in crashed.error
    assert crashed.conversations_deleted == 2
    assert sum(exists(c) for c in conversations) == 4  # the second batch rolled back

    monkeypatch.setattr(services, "_batch_delete", real_batch_delete)
    resumed = retention_purge_run(batch_size=2)

    assert resumed.conversations_deleted == 4
    assert not any(exists(c) for c in conversations)


def test_run_left_running_by_a_dead_worker_is_closed_by_the_next_run():
    dead = RetentionRun.objects.create(
        cutoff=T, started_at=T, batch_size=10, max_batches=1, status=RunStatus.RUNNING
    )

    retention_purge_run()

    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert dead.error == errors.ABANDONED


# --- One run at a time -------------------------------------------------------------------


def test_second_run_while_one_is_running_exits_at_once():
    conversation_due_in(-DAY)
    conversation_due_in(-DAY)
    nested = []

    def start_another(run):
        if not nested:
            nested.append(retention_purge_run())

    outer = retention_purge_run(batch_size=1, progress=start_another)

    assert nested[0].status == RunStatus.SKIPPED_LOCKED
    assert nested[0].error == errors.SKIPPED_LOCKED
    assert nested[0].conversations_deleted == 0
    assert outer.status == RunStatus.SUCCEEDED
    assert outer.conversations_deleted == 2


def test_lock_is_released_after_a_run_so_the_next_one_runs():
    retention_purge_run()
    conversation_due_in(-DAY)

    run = retention_purge_run()

    assert run.status == RunStatus.SUCCEEDED
    assert run.conversations_deleted == 1


def test_lock_is_released_after_a_failed_run(monkeypatch):
    from retention import services

    conversation_due_in(-DAY)
    monkeypatch.setattr(services, "_batch_delete", lambda pks, *, cutoff: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        retention_purge_run()
    monkeypatch.undo()

    run = retention_purge_run()

    assert run.status == RunStatus.SUCCEEDED


def test_chunk_run_is_skipped_while_a_full_run_holds_the_lock():
    due = conversation_due_in(-DAY)
    conversation_due_in(-DAY)
    chunk_runs = []

    def start_chunk(run):
        if not chunk_runs:
            chunk_runs.append(retention_purge_run(id_range=(due.pk, due.pk)))

    retention_purge_run(batch_size=1, progress=start_chunk)

    assert chunk_runs[0].status == RunStatus.SKIPPED_LOCKED


# --- Chunks for many workers -------------------------------------------------------------


def test_plan_splits_due_ids_into_ranges_that_cover_them_without_overlap():
    due = [conversation_due_in(-DAY, messages=0) for _ in range(7)]
    not_due = conversation_due_in(DAY, messages=0)

    ranges = retention_purge_plan(now=timezone.now(), chunk_size=3)

    assert len(ranges) == 3
    assert all(lo <= hi for lo, hi in ranges)
    assert all(a[1] < b[0] for a, b in pairwise(ranges))
    covered = [c.pk for c in due if any(lo <= c.pk <= hi for lo, hi in ranges)]
    assert covered == [c.pk for c in due]
    per_range = [sum(lo <= c.pk <= hi for c in due) for lo, hi in ranges]
    assert per_range == [3, 3, 1]
    assert ranges[-1][1] == due[-1].pk
    assert not_due.pk > ranges[-1][1]


def test_plan_is_empty_when_nothing_is_due():
    conversation_due_in(DAY)

    assert retention_purge_plan(now=timezone.now(), chunk_size=10) == []


def test_chunk_runs_of_one_plan_together_delete_everything_due_once():
    due = [conversation_due_in(-DAY, messages=2) for _ in range(7)]
    kept = conversation_due_in(DAY)
    now = timezone.now()

    runs = [
        retention_purge_run(now=now, id_range=chunk, batch_size=2)
        for chunk in retention_purge_plan(now=now, chunk_size=3)
    ]

    assert sum(run.conversations_deleted for run in runs) == 7
    assert sum(run.messages_deleted for run in runs) == 14
    assert not any(exists(c) for c in due)
    assert exists(kept)
    assert all(run.status == RunStatus.SUCCEEDED for run in runs)


def test_chunk_run_touches_nothing_outside_its_range():
    first, second, third = (conversation_due_in(-DAY) for _ in range(3))

    retention_purge_run(id_range=(second.pk, second.pk))

    assert [exists(c) for c in (first, second, third)] == [True, False, True]


def test_a_chunk_run_twice_deletes_nothing_the_second_time():
    due = conversation_due_in(-DAY)
    now = timezone.now()

    first = retention_purge_run(now=now, id_range=(due.pk, due.pk))
    again = retention_purge_run(now=now, id_range=(due.pk, due.pk))

    assert (first.conversations_deleted, again.conversations_deleted) == (1, 0)


# --- The DELETE re-checks rows changed after they were selected ------------------------------


def test_conversation_reopened_after_selection_is_not_deleted(monkeypatch):
    from retention import services

    reopened = conversation_due_in(-DAY)
    other = conversation_due_in(-DAY)
    real_delete = services._conversations_delete_returning

    def reopen_then_delete(pks, *, cutoff):
        # Between the batch's SELECT and its DELETE, the user posts: retain_until moves on.
        Conversation.objects.filter(pk=reopened.pk).update(retain_until=cutoff + 30 * DAY)
        return real_delete(pks, cutoff=cutoff)

    monkeypatch.setattr(services, "_conversations_delete_returning", reopen_then_delete)
    run = retention_purge_run()

    assert exists(reopened)
    assert Message.objects.filter(conversation_id=reopened.pk).count() == 2
    assert not exists(other)
    assert run.conversations_deleted == 1


def test_hold_placed_after_selection_is_honoured(monkeypatch, holder):
    from retention import services

    held = conversation_due_in(-DAY)
    real_delete = services._conversations_delete_returning

    def hold_then_delete(pks, *, cutoff):
        with transaction.atomic():
            services.hold_place(conversation=held, reason="litigation", created_by=holder)
        return real_delete(pks, cutoff=cutoff)

    monkeypatch.setattr(services, "_conversations_delete_returning", hold_then_delete)
    retention_purge_run()

    assert exists(held)


def test_invalid_batch_size_is_refused():
    with pytest.raises(ValueError):
        retention_purge_run(batch_size=-1)


def test_conversations_due_with_no_messages_are_deleted_too():
    empty = ConversationFactory(retain_until=timezone.now() - DAY)

    retention_purge_run()

    assert not exists(empty)
