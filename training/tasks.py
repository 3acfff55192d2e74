"""Training export tasks: thin, idempotent wrappers over the export services.

``export_training_snapshot`` plans and sends one task per shard; ``write_training_shard``
writes one shard and finalises the export when it was the last; the beat entry
``advance_training_exports`` finalises what is complete and resends shards whose task was
lost. Every task may run twice (``acks_late``): the services make a second run a no-op.
"""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import ShardStatus, SnapshotShard
from .services import (
    snapshot_export_finalise,
    snapshot_export_plan,
    snapshot_exports_advance,
    snapshot_shard_write,
)


def shards_send(shard_ids: list[int]) -> None:
    """Send one task per shard. Called outside any transaction: the shard rows are
    committed, so a worker that takes the message at once finds its row. A send that
    fails leaves the shard to the sweep (``snapshot_exports_advance``)."""
    for shard_id in shard_ids:
        write_training_shard.delay(shard_id)


@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def export_training_snapshot(
    self,
    snapshot_key: str | None = None,
    created_by_id: int | None = None,
) -> None:
    """Plan a snapshot and send its shards to the workers.

    Without a key the task id is the key: a message redelivered after a worker died
    (acks_late) carries the same id, so it continues that export instead of adding one.
    """
    key = snapshot_key or f"task-{self.request.id}"
    created_by = (
        get_user_model().objects.filter(pk=created_by_id).first() if created_by_id else None
    )
    export = snapshot_export_plan(snapshot_key=key, created_by=created_by)
    unsent = export.shards.filter(status=ShardStatus.PENDING, dispatched_at__isnull=True)
    shard_ids = list(unsent.values_list("pk", flat=True))
    SnapshotShard.objects.filter(pk__in=shard_ids).update(dispatched_at=timezone.now())
    shards_send(shard_ids)
    if not shard_ids and export.shards.count() == 0:
        snapshot_export_finalise(export_id=export.pk)  # nothing to write: an empty snapshot


@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=1500, time_limit=1800)
def write_training_shard(self, shard_id: int) -> None:
    shard = snapshot_shard_write(shard_id=shard_id, worker=self.request.hostname or "")
    if shard is not None:
        snapshot_export_finalise(export_id=shard.export_id)  # a no-op until the last shard


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def advance_training_exports() -> None:
    shards_send(snapshot_exports_advance())
