"""python manage.py export_training_snapshot --out FILE [--snapshot-key KEY]"""

from django.core.management.base import BaseCommand, CommandError

from training.errors import TrainingExportError
from training.services import training_snapshot_export


class Command(BaseCommand):
    help = "Export every conversation eligible for training, redacted, as JSON Lines."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="Where to write the JSON Lines file.")
        parser.add_argument(
            "--snapshot-key",
            default=None,
            help="Idempotency key: rerunning with the key of a finished snapshot changes nothing.",
        )

    def handle(self, *args, **options):
        try:
            snapshot = training_snapshot_export(
                out_path=options["out"], snapshot_key=options["snapshot_key"]
            )
        except TrainingExportError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{snapshot.label}: {snapshot.conversation_count} conversations, "
            f"{snapshot.message_count} messages -> {snapshot.file_name} "
            f"(sha256 {snapshot.file_sha256}, key {snapshot.snapshot_key})"
        )
