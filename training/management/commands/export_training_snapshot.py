"""python manage.py export_training_snapshot [--inline] [--out FILE] [--snapshot-key KEY]

Plans a snapshot and either sends its shards to the Celery workers and follows them
(default) or writes every shard in this process (``--inline``). A progress bar shows shards
done and messages per second; the last line sums the snapshot up.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum
from django.utils import timezone
from tqdm import tqdm

from training.errors import TrainingExportError
from training.models import ExportStatus, ShardFormat, ShardStatus, SnapshotExport
from training.services import (
    snapshot_export_finalise,
    snapshot_export_plan,
    snapshot_shard_write,
)
from training.tasks import shards_send

POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = "Export every conversation eligible for training, redacted, as sharded files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            default=None,
            help="Write the manifest to this path on this machine (shards beside it) "
            "instead of the export storage (TRAINING_EXPORT_STORAGE).",
        )
        parser.add_argument(
            "--snapshot-key",
            default=None,
            help="Idempotency key: rerunning with the key of a finished snapshot changes "
            "nothing; with the key of a running export it follows (or helps) that export.",
        )
        parser.add_argument(
            "--inline", action="store_true", help="Write the shards here, not on the workers."
        )
        parser.add_argument(
            "--shard-size", type=int, default=None, help="Conversation ids per shard."
        )
        parser.add_argument(
            "--format", choices=list(ShardFormat.values), default=ShardFormat.JSONL_GZ
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            export = snapshot_export_plan(
                snapshot_key=options["snapshot_key"],
                out_path=options["out"],
                shard_size=options["shard_size"],
                file_format=options["format"],
            )
        except TrainingExportError as error:
            raise CommandError(error.message) from error
        with tqdm(
            total=export.shard_count, unit="shard", file=sys.stderr, disable=None
        ) as progress:
            if options["inline"]:
                self._inline(export, progress, started)
            else:
                self._follow(export, progress, started)
        export.refresh_from_db()
        if export.status != ExportStatus.DONE:
            raise CommandError(export.error)
        snapshot = export.snapshot
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{snapshot.label}: {snapshot.conversation_count} conversations, "
            f"{snapshot.message_count} messages in {export.shard_count} shards, "
            f"{seconds:.1f} s ({snapshot.message_count / max(seconds, 1e-9):.0f} messages/s) "
            f"-> {snapshot.file_name} (sha256 {snapshot.file_sha256[:12]}…, "
            f"key {snapshot.snapshot_key})"
        )

    @staticmethod
    def _show(export: SnapshotExport, progress, started: float) -> None:
        done = export.shards.filter(status=ShardStatus.DONE)
        progress.n = done.count()
        messages = done.aggregate(total=Sum("message_count"))["total"] or 0
        progress.set_postfix(
            messages_per_s=f"{messages / max(time.monotonic() - started, 1e-9):.0f}",
            refresh=False,
        )
        progress.refresh()

    def _inline(self, export: SnapshotExport, progress, started: float) -> None:
        pending = export.shards.exclude(status=ShardStatus.DONE).values_list("pk", flat=True)
        for shard_id in list(pending):
            snapshot_shard_write(shard_id=shard_id, worker="inline")
            self._show(export, progress, started)
        snapshot_export_finalise(export_id=export.pk)

    def _follow(self, export: SnapshotExport, progress, started: float) -> None:
        unsent = export.shards.filter(status=ShardStatus.PENDING, dispatched_at__isnull=True)
        shard_ids = list(unsent.values_list("pk", flat=True))
        unsent.update(dispatched_at=timezone.now())
        shards_send(shard_ids)
        while True:
            self._show(export, progress, started)
            export.refresh_from_db(fields=["status"])
            if export.status != ExportStatus.RUNNING:
                return
            if not export.shards.exclude(status=ShardStatus.DONE).exists():
                snapshot_export_finalise(export_id=export.pk)  # the last worker may be slow
                continue
            time.sleep(POLL_SECONDS)
