"""Real concurrency on PostgreSQL: separate connections (threads) and advisory locks.

Every thread uses its own database connection (Django keeps one per thread);
Events order the steps, so nothing here depends on timing.
"""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conversations.models import Conversation
from retention.models import RetentionRun, RunStatus
from retention.services import retention_purge_plan, retention_purge_run

from .conftest import conversation_due_in

pytestmark = pytest.mark.django_db(transaction=True)

DAY = timedelta(days=1)
WAIT = 30  # seconds; only a bound against a hung test, never an assertion


def in_thread(target: Callable, results: list, errors: list) -> threading.Thread:
    def run():
        try:
            results.append(target())
        except BaseException as exc:  # surfaced by the test, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_second_run_from_another_connection_exits_while_the_first_holds_the_lock(
    postgres_only,
):
    for _ in range(3):
        conversation_due_in(-DAY)
    first_is_running, let_first_finish = threading.Event(), threading.Event()

    def pause_after_first_batch(run):
        if run.batches == 1:
            first_is_running.set()
            assert let_first_finish.wait(WAIT)

    results, errors = [], []
    first = in_thread(
        lambda: retention_purge_run(batch_size=1, progress=pause_after_first_batch), results, errors
    )
    assert first_is_running.wait(WAIT)

    second = retention_purge_run()

    let_first_finish.set()
    first.join(WAIT)
    assert not errors
    assert second.status == RunStatus.SKIPPED_LOCKED
    assert second.conversations_deleted == 0
    assert results[0].status == RunStatus.SUCCEEDED
    assert results[0].conversations_deleted == 3


def test_lock_is_free_again_once_the_other_connection_finishes(postgres_only):
    conversation_due_in(-DAY)
    results, errors = [], []
    in_thread(retention_purge_run, results, errors).join(WAIT)
    conversation_due_in(-DAY)

    run = retention_purge_run()

    assert not errors
    assert run.status == RunStatus.SUCCEEDED
    assert run.conversations_deleted == 1


def test_two_workers_on_different_chunks_run_side_by_side_and_delete_each_row_once(
    postgres_only,
):
    for _ in range(8):
        conversation_due_in(-DAY, messages=2)
    kept = conversation_due_in(DAY)
    cutoff = timezone.now()
    first_chunk, second_chunk = retention_purge_plan(now=cutoff, chunk_size=4)
    both_inside = threading.Barrier(2, timeout=WAIT)

    def worker(chunk):
        # Both wait inside their first batch: proof that neither lock excludes the other.
        return lambda: retention_purge_run(
            now=cutoff,
            id_range=chunk,
            batch_size=2,
            progress=lambda run: both_inside.wait() if run.batches == 1 else None,
        )

    results, errors = [], []
    threads = [in_thread(worker(chunk), results, errors) for chunk in (first_chunk, second_chunk)]
    for thread in threads:
        thread.join(WAIT)

    assert not errors
    assert [run.status for run in results] == [RunStatus.SUCCEEDED] * 2
    assert sorted(run.conversations_deleted for run in results) == [4, 4]
    assert sum(run.messages_deleted for run in results) == 16
    assert list(Conversation.objects.values_list("pk", flat=True)) == [kept.pk]


def test_two_workers_racing_for_the_same_chunk_delete_it_once(postgres_only):
    for _ in range(6):
        conversation_due_in(-DAY, messages=1)
    cutoff = timezone.now()
    (chunk,) = retention_purge_plan(now=cutoff, chunk_size=100)
    start = threading.Barrier(2, timeout=WAIT)

    def worker():
        start.wait()
        return retention_purge_run(now=cutoff, id_range=chunk, batch_size=2)

    results, errors = [], []
    threads = [in_thread(worker, results, errors) for _ in range(2)]
    for thread in threads:
        thread.join(WAIT)

    assert not errors
    # Whoever lost either found the chunk locked or, arriving later, found nothing left.
    assert sum(run.conversations_deleted for run in results) == 6
    assert sum(run.messages_deleted for run in results) == 6
    assert {run.status for run in results} <= {RunStatus.SUCCEEDED, RunStatus.SKIPPED_LOCKED}
    assert not Conversation.objects.exists()


def test_chunk_worker_is_skipped_while_a_full_run_holds_the_lock(postgres_only):
    due = [conversation_due_in(-DAY) for _ in range(2)]
    full_is_running, let_full_finish = threading.Event(), threading.Event()

    def pause(run):
        if run.batches == 1:
            full_is_running.set()
            assert let_full_finish.wait(WAIT)

    results, errors = [], []
    full = in_thread(lambda: retention_purge_run(batch_size=1, progress=pause), results, errors)
    assert full_is_running.wait(WAIT)

    chunk = retention_purge_run(id_range=(due[1].pk, due[1].pk))

    let_full_finish.set()
    full.join(WAIT)
    assert not errors
    assert chunk.status == RunStatus.SKIPPED_LOCKED
    assert RetentionRun.objects.filter(status=RunStatus.SUCCEEDED).get().conversations_deleted == 2
