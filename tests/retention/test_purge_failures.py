"""How a purge run ends when something goes wrong, and which dead runs the next one closes."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError, connection
from django.utils import timezone

from retention import errors
from retention.locks import LEASE_TTL, LeaseLost
from retention.models import PurgeLock, RetentionRun, RunStatus
from retention.services import retention_purge_plan, retention_purge_run

from .conftest import T, conversation_due_in, exists

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_batch_that_outlasts_the_lock_lease_stops_the_run_and_spares_the_new_holder(caplog):
    conversations = [conversation_due_in(-DAY) for _ in range(3)]
    takeovers = []

    def slow_batch_then_taken_over(run):
        # The batch outlasted the lease; another worker's takeover (the conditional
        # UPDATE of locks._lease_take) succeeds on the lapsed row.
        if takeovers:
            return
        traveller.shift(LEASE_TTL + timedelta(minutes=1))
        now = timezone.now()
        takeovers.append(
            PurgeLock.objects.filter(expires_at__lte=now).update(
                holder="other-host:42", acquired_at=now, expires_at=now + LEASE_TTL
            )
        )

    lost = None
    with (
        time_machine.travel(timezone.now(), tick=False) as traveller,
        caplog.at_level(logging.INFO, logger="retention.services"),
    ):
        try:
            retention_purge_run(batch_size=1, progress=slow_batch_then_taken_over)
        except LeaseLost as exc:
            lost = exc

    run = RetentionRun.objects.get()
    if connection.vendor == "postgresql":
        # An advisory lock lasts as long as the session: there is no lease to lose.
        assert (takeovers, lost) == ([0], None)
        assert (run.status, run.conversations_deleted) == (RunStatus.SUCCEEDED, 3)
        return
    assert takeovers == [1]
    assert isinstance(lost, LeaseLost)
    assert run.status == RunStatus.FAILED
    assert run.error == errors.LEASE_LOST  # the advice itself, not a class name and traceback
    assert (run.batches, run.conversations_deleted) == (1, 1)
    assert [exists(c) for c in conversations] == [False, True, True]
    # The run that lost the lease does not release the lease it no longer holds.
    assert PurgeLock.objects.get().holder == "other-host:42"
    assert "retention purge failed" in [r.getMessage() for r in caplog.records]


class RunTableRefusesWrites:
    """Stands in for a database that fails every write to the run table once armed."""

    def __init__(self) -> None:
        self.armed = False
        self.refused = 0

    def __call__(self, execute, sql, params, many, context):
        writes_runs = sql.lstrip().upper().startswith("UPDATE") and (
            RetentionRun._meta.db_table in sql
        )
        if self.armed and writes_runs:
            self.refused += 1
            raise OperationalError(f"write #{self.refused} to the run table refused")
        return execute(sql, params, many, context)


# Autocommit, as the task runs: inside a test's transaction the failed save would doom the
# whole block, which is not what happens to a worker.
@pytest.mark.django_db(transaction=True)
def test_run_whose_record_cannot_be_written_raises_the_first_error_and_is_closed_later(caplog):
    conversations = [conversation_due_in(-DAY) for _ in range(3)]
    database = RunTableRefusesWrites()

    def arm(run):
        database.armed = True

    with (
        connection.execute_wrapper(database),
        caplog.at_level(logging.INFO, logger="retention.services"),
        pytest.raises(OperationalError) as failed,
    ):
        retention_purge_run(batch_size=1, progress=arm)

    # The error that stopped the run is raised, not the one that kept it from being recorded.
    assert str(failed.value) == "write #1 to the run table refused"
    assert database.refused == 2
    [unrecorded] = [
        r for r in caplog.records if r.getMessage() == "could not record the failed purge run"
    ]
    assert str(unrecorded.exc_info[1]) == "write #2 to the run table refused"
    assert "retention purge failed" in [r.getMessage() for r in caplog.records]
    # The second batch's counts could not be written, so its delete was rolled back with them.
    stuck = RetentionRun.objects.get()
    assert (stuck.status, stuck.batches, stuck.conversations_deleted) == (RunStatus.RUNNING, 1, 1)
    assert [exists(c) for c in conversations] == [False, True, True]

    database.armed = False
    next_run = retention_purge_run()

    stuck.refresh_from_db()
    assert stuck.status == RunStatus.FAILED
    assert stuck.error == errors.ABANDONED
    assert stuck.finished_at == next_run.started_at
    assert next_run.conversations_deleted == 2
    assert not any(exists(c) for c in conversations)


def _running(**range_):
    return RetentionRun.objects.create(
        cutoff=T, started_at=T, batch_size=10, max_batches=1, status=RunStatus.RUNNING, **range_
    )


def test_full_run_closes_the_dead_runs_its_lock_excludes():
    dead_full = _running()
    dead_chunk = _running(id_range_lo=1, id_range_hi=10)
    counting = _running(dry_run=True)

    retention_purge_run()

    closed = set(RetentionRun.objects.filter(error=errors.ABANDONED).values_list("pk", flat=True))
    # PostgreSQL: a full run's advisory lock takes the purge key every chunk run shares, so
    # no chunk run can be alive beside it. A lease (SQLite) excludes only other full runs.
    if connection.vendor == "postgresql":
        assert closed == {dead_full.pk, dead_chunk.pk}
    else:
        assert closed == {dead_full.pk}
        dead_chunk.refresh_from_db()
        assert dead_chunk.status == RunStatus.RUNNING
    # A dry run takes no lock, so no lock says it died.
    counting.refresh_from_db()
    assert counting.status == RunStatus.RUNNING


def test_chunk_run_closes_only_the_dead_run_of_its_own_range():
    dead_full = _running()
    dead_same_chunk = _running(id_range_lo=1, id_range_hi=10)
    dead_other_chunk = _running(id_range_lo=11, id_range_hi=20)

    retention_purge_run(id_range=(1, 10))

    statuses = dict(RetentionRun.objects.values_list("pk", "status"))
    assert statuses[dead_same_chunk.pk] == RunStatus.FAILED
    assert statuses[dead_other_chunk.pk] == RunStatus.RUNNING
    assert statuses[dead_full.pk] == RunStatus.RUNNING


def test_plan_refuses_a_chunk_size_below_one():
    conversation_due_in(-DAY)

    with pytest.raises(ValueError, match="chunk_size must be positive"):
        retention_purge_plan(chunk_size=0)
