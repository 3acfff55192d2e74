"""Run one retention purge by hand: ``manage.py purge_expired [--dry-run] [--batch-size N] [--max-batches N]``."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retention.errors import PURGE_FAILED
from retention.models import RetentionRun, RunStatus
from retention.selectors import conversations_due_for_purge
from retention.services import retention_purge_run

BAR_WIDTH = 30


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Delete conversations (with their messages) whose retain_until has passed and that are "
        "not on hold, in batches that each commit; only one run at a time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what is due; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=None,
            help=f"Conversations per batch (default {settings.RETENTION_PURGE_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--max-batches",
            type=positive_int,
            default=None,
            help=f"Stop after this many batches (default {settings.RETENTION_PURGE_MAX_BATCHES}).",
        )

    def handle(
        self, *args, dry_run: bool, batch_size: int | None, max_batches: int | None, **options
    ):
        cutoff = timezone.now()
        batch_size = batch_size or settings.RETENTION_PURGE_BATCH_SIZE
        max_batches = max_batches or settings.RETENTION_PURGE_MAX_BATCHES
        self.stdout.write(
            f"{'Counting' if dry_run else 'Purging'} conversations due before {cutoff.isoformat()} "
            f"(batch size {batch_size}, at most {max_batches} batches)"
        )
        tty = self.stdout.isatty()
        total = None
        if tty:
            # Only the bar needs a total; one indexed count, capped at what this run may do.
            due = conversations_due_for_purge(cutoff=cutoff).count()
            total = min(due, batch_size * max_batches)
        started = timezone.now()
        try:
            run = retention_purge_run(
                now=cutoff,
                batch_size=batch_size,
                max_batches=max_batches,
                dry_run=dry_run,
                progress=(lambda r: self._bar(r, total)) if tty else self._line,
            )
        except Exception as exc:
            raise CommandError(f"{PURGE_FAILED} ({exc})") from exc
        if tty and run.batches:
            self.stdout.write("")
        self._summary(run, (timezone.now() - started).total_seconds())

    def _line(self, run: RetentionRun) -> None:
        self.stdout.write(
            f"batch {run.batches}: {run.conversations_deleted} conversations, "
            f"{run.messages_deleted} messages so far"
        )

    def _bar(self, run: RetentionRun, total: int | None) -> None:
        total = max(total or 0, run.conversations_deleted, 1)
        filled = round(BAR_WIDTH * run.conversations_deleted / total)
        self.stdout.write(
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{run.conversations_deleted}/{total} conversations, {run.messages_deleted} messages, "
            f"batch {run.batches}",
            ending="",
        )
        self.stdout.flush()

    def _summary(self, run: RetentionRun, seconds: float) -> None:
        if run.status == RunStatus.SKIPPED_LOCKED:
            self.stdout.write(self.style.WARNING(f"Skipped (run #{run.pk}): {run.error}"))
            return
        verb = "Would delete" if run.dry_run else "Deleted"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {run.conversations_deleted} conversations and {run.messages_deleted} "
                f"messages in {run.batches} batches (run #{run.pk}, {seconds:.1f} s)."
            )
        )
        if not run.exhausted:
            self.stdout.write(
                "More conversations are due: run the command again, or the hourly task continues."
            )
