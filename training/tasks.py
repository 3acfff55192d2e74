"""Training export task: a thin, rerunnable wrapper over the export service."""

from celery import shared_task
from django.contrib.auth import get_user_model

from .services import default_export_path, training_snapshot_export


@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=3300, time_limit=3600)
def export_training_snapshot(
    self,
    snapshot_key: str | None = None,
    out_path: str | None = None,
    created_by_id: int | None = None,
) -> None:
    """Export one snapshot under ``var/exports/`` unless told where.

    Without a key the task id is the key: a message redelivered after a worker died
    (acks_late) carries the same id, so it finishes that snapshot instead of adding one.
    """
    key = snapshot_key or f"task-{self.request.id}"
    created_by = (
        get_user_model().objects.filter(pk=created_by_id).first() if created_by_id else None
    )
    training_snapshot_export(
        out_path=out_path or default_export_path(key), snapshot_key=key, created_by=created_by
    )
