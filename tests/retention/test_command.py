from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from retention import errors
from retention.models import RetentionRun, RunStatus
from retention.services import retention_purge_run

from .conftest import conversation_due_in, exists

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def purge_expired(*args: str) -> str:
    out = StringIO()
    call_command("purge_expired", *args, stdout=out)
    return out.getvalue()


def test_command_purges_and_prints_a_line_per_batch_and_a_summary():
    due = [conversation_due_in(-DAY, messages=2) for _ in range(3)]

    output = purge_expired("--batch-size", "2")

    assert "batch 1: 2 conversations, 4 messages so far" in output
    assert "batch 2: 3 conversations, 6 messages so far" in output
    run = RetentionRun.objects.get()
    assert f"Deleted 3 conversations and 6 messages in 2 batches (run #{run.pk}," in output
    assert not any(exists(c) for c in due)


def test_command_dry_run_says_what_it_would_delete_and_deletes_nothing():
    due = conversation_due_in(-DAY, messages=2)

    output = purge_expired("--dry-run")

    assert "Would delete 1 conversations and 2 messages in 1 batches" in output
    assert exists(due)
    assert RetentionRun.objects.get().dry_run


def test_command_stops_at_max_batches_and_says_more_remain():
    for _ in range(3):
        conversation_due_in(-DAY)

    output = purge_expired("--batch-size", "1", "--max-batches", "2")

    assert "Deleted 2 conversations" in output
    assert "More conversations are due" in output


def test_command_says_why_it_did_nothing_when_another_run_holds_the_lock():
    conversation_due_in(-DAY)
    outputs = []

    retention_purge_run(progress=lambda run: outputs.append(purge_expired()))

    assert str(errors.SKIPPED_LOCKED) in outputs[0]
    assert RetentionRun.objects.filter(status=RunStatus.SKIPPED_LOCKED).count() == 1


def test_command_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError):
        purge_expired("--batch-size", "0")


def test_command_reports_a_failed_run(monkeypatch):
    from retention import services

    conversation_due_in(-DAY)
    monkeypatch.setattr(services, "_batch_delete", lambda pks, *, cutoff: 1 / 0)

    with pytest.raises(CommandError) as failed:
        purge_expired()

    assert str(errors.PURGE_FAILED) in str(failed.value)
    assert RetentionRun.objects.get().status == RunStatus.FAILED
