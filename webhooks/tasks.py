"""Delivery tasks: thin, idempotent (leases and statuses make a rerun harmless), never in a request.

``webhooks_dispatch`` is enqueued after each committing change that wrote an event;
``webhooks_sweep`` runs every minute from beat and does the same work, so an enqueue the
broker refused, a lost task or a killed worker only delays delivery. A run that left a
retry due before the next sweep schedules one follow-up run for it.
"""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from config.broker import task_enqueue

from . import delivery

SWEEP_SECONDS = 60
_FOLLOW_UP_KEY = "webhooks:follow-up"


def _follow_up() -> None:
    due = delivery.next_retry_at()
    if due is None:
        return
    delay = max(1, int((due - timezone.now()).total_seconds()) + 1)
    # One scheduled follow-up at a time across workers (the cache key says one is waiting).
    if delay < SWEEP_SECONDS and cache.add(_FOLLOW_UP_KEY, 1, timeout=delay):
        task_enqueue(webhooks_dispatch, countdown=delay)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def webhooks_dispatch() -> int:
    result = delivery.webhooks_dispatch()
    if result.failed:
        _follow_up()
    return result.delivered


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def webhooks_sweep() -> int:
    result = delivery.webhooks_dispatch()
    if result.failed:
        _follow_up()
    return result.delivered
