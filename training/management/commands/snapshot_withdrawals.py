"""python manage.py snapshot_withdrawals KEY [--out FILE] [--since CURSOR]

Writes the snapshot's withdrawals feed (the same entries as
``GET /api/v1/snapshots/{key}/withdrawals``) as JSON Lines, one entry per line, to FILE or
standard output; the summary line (and the cursor to continue from) goes to standard error.
"""

import json
import sys
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from tqdm import tqdm

from training import errors
from training.selectors import (
    WITHDRAWALS_PAGE_MAX,
    InvalidCursor,
    snapshot_by_key,
    snapshot_withdrawals,
)


class Command(BaseCommand):
    help = "Write the conversations a snapshot already taken may no longer use (JSON Lines)."

    def add_arguments(self, parser):
        parser.add_argument("snapshot_key")
        parser.add_argument("--out", default=None, help="File to write (default: stdout).")
        parser.add_argument("--since", default=None, help="Continue after this cursor.")

    def handle(self, *args, **options):
        snapshot = snapshot_by_key(options["snapshot_key"])
        if snapshot is None:
            raise CommandError(errors.UNKNOWN_SNAPSHOT)
        now = timezone.now()  # one instant for every page: the pages join up exactly
        cursor = options["since"]
        out = open(options["out"], "w") if options["out"] else sys.stdout  # noqa: SIM115
        written = 0
        try:
            with tqdm(unit=" entries", file=sys.stderr, disable=None) as progress:
                while True:
                    try:
                        page = snapshot_withdrawals(
                            snapshot=snapshot, since=cursor, limit=WITHDRAWALS_PAGE_MAX, now=now
                        )
                    except InvalidCursor as error:
                        raise CommandError(errors.INVALID_CURSOR) from error
                    for item in page.items:
                        # The API's encoding too: times in ISO 8601 with "Z" for UTC.
                        out.write(json.dumps(asdict(item), cls=DjangoJSONEncoder) + "\n")
                    written += len(page.items)
                    progress.update(len(page.items))
                    cursor = page.next_cursor
                    if len(page.items) < WITHDRAWALS_PAGE_MAX:
                        break
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(
            f"{snapshot.label} ({snapshot.snapshot_key}): {written} withdrawn of "
            f"{snapshot.conversation_count} conversations"
            + (f" -> {options['out']}" if options["out"] else "")
            + (f"; continue with --since {cursor}" if cursor else "")
        )
