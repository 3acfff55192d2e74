from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from consent.verification import evidence_verify_and_record


class Command(BaseCommand):
    help = (
        "Check the consent records, chains and state rows against the evidence log and the "
        "signed tree heads in the external sink; exit non-zero and name each problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args, no_progress=False, **options):
        def progress(**kwargs):
            return tqdm(
                disable=no_progress or options["verbosity"] == 0,
                file=self.stderr._out,
                unit=" rows",
                **kwargs,
            )

        report, _ = evidence_verify_and_record(progress=progress)
        for finding in report.findings:
            self.stderr.write(f"BROKEN {finding}")
        if not report.passed:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
