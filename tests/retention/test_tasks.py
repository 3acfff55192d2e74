from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from retention import tasks
from retention.models import RetentionRun, RunStatus

from .conftest import conversation_due_in, exists

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_beat_schedule_points_at_the_purge_task():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge-hourly"]

    assert entry["task"] == tasks.purge_expired_conversations.name


def test_hourly_task_runs_one_purge():
    due = conversation_due_in(-DAY)

    run_id = tasks.purge_expired_conversations()

    run = RetentionRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED
    assert run.conversations_deleted == 1
    assert not exists(due)


def test_chunk_task_purges_its_range_at_the_plans_cutoff():
    inside = conversation_due_in(-DAY)
    outside = conversation_due_in(-DAY)
    cutoff = timezone.now()

    run_id = tasks.purge_expired_chunk(inside.pk, inside.pk, cutoff.isoformat())

    run = RetentionRun.objects.get(pk=run_id)
    assert (run.cutoff, run.id_range) == (cutoff, (inside.pk, inside.pk))
    assert not exists(inside)
    assert exists(outside)


def test_plan_task_enqueues_one_chunk_task_per_range_after_commit(
    django_capture_on_commit_callbacks,
):
    due = [conversation_due_in(-DAY) for _ in range(5)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        planned = tasks.plan_purge_chunks(chunk_size=2)

    assert planned == 3
    # Each chunk's deletions also ask for a webhooks dispatch; count the chunk sends.
    chunk_sends = [
        c for c in callbacks if getattr(c, "func", None) == tasks.purge_expired_chunk.delay
    ]
    assert len(chunk_sends) == 3
    runs = RetentionRun.objects.all()
    assert len({run.cutoff for run in runs}) == 1
    assert sum(run.conversations_deleted for run in runs) == 5
    assert not any(exists(c) for c in due)
