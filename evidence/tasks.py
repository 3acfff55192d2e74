"""Beat-driven evidence checkpoints; thin and safe to rerun (a rerun signs nothing new)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def write_checkpoint() -> int:
    return services.checkpoint().sequenced
