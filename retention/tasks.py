"""Retention tasks: thin wrappers over services, safe to run twice (acks_late)."""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from conversations import safety

from . import services

# Within CELERY_TASK_TIME_LIMIT; a run stopped early resumes at the next schedule.
PURGE_SOFT_LIMIT = 25 * 60
DEFAULT_CHUNK_SIZE = 50_000


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=PURGE_SOFT_LIMIT,
    time_limit=PURGE_SOFT_LIMIT + 60,
)
def purge_expired_conversations() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): one bounded purge run; returns the RetentionRun id."""
    return services.retention_purge_run().pk


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=PURGE_SOFT_LIMIT,
    time_limit=PURGE_SOFT_LIMIT + 60,
)
def purge_expired_chunk(lo: int, hi: int, cutoff_iso: str) -> int:
    """One worker's share of a plan: ids lo..hi (inclusive) due at the plan's cutoff."""
    return services.retention_purge_run(
        now=datetime.fromisoformat(cutoff_iso), id_range=(lo, hi)
    ).pk


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def plan_purge_chunks(chunk_size: int | None = None, cutoff_iso: str | None = None) -> int:
    """Scale-out alternative to the hourly run: split due ids into chunks for many workers.

    Every chunk gets the plan's cutoff, so the chunks together are one run at T.
    """
    cutoff = datetime.fromisoformat(cutoff_iso) if cutoff_iso else timezone.now()
    chunk_size = chunk_size or getattr(settings, "RETENTION_PURGE_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)
    ranges = services.retention_purge_plan(now=cutoff, chunk_size=chunk_size)
    for lo, hi in ranges:
        purge_expired_chunk.delay_on_commit(lo, hi, cutoff.isoformat())
    return len(ranges)


# --- Old names of the safety tasks, now in conversations.tasks ----------------------------
# Kept registered so that messages already queued, and a django-celery-beat row that still
# names the old task (sync_beat_schedule keeps existing rows unless --reset), still run.


@shared_task(
    name="retention.tasks.classify_conversation_safety",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=150,
)
def classify_conversation_safety_old_name(conversation_id: int) -> bool:
    return safety.conversation_safety_classify(conversation_id=conversation_id)


@shared_task(
    name="retention.tasks.sweep_safety_checks",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def sweep_safety_checks_old_name(batch_size: int = 500) -> int:
    return safety.conversation_safety_sweep(batch_size=batch_size)
