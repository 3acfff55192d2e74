"""Safety-classifier tasks: thin wrappers over conversations.safety, safe to run twice."""

from celery import shared_task

from . import safety


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def classify_conversation_safety(conversation_id: int) -> bool:
    """Enqueued after every chat activity (conversations.safety)."""
    return safety.conversation_safety_classify(conversation_id=conversation_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def sweep_safety_checks(batch_size: int = 500) -> int:
    """Every 15 minutes (CELERY_BEAT_SCHEDULE): checks an outage lost."""
    return safety.conversation_safety_sweep(batch_size=batch_size)
