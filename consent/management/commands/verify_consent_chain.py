from django.core.management.base import BaseCommand, CommandError

from consent.services import consent_chains_verify


class Command(BaseCommand):
    help = "Recompute every user's consent hash chain; exit non-zero and name each broken record."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            type=int,
            action="append",
            dest="user_ids",
            help="Only this user id (repeatable).",
        )

    def handle(self, *args, user_ids=None, **options):
        breaks = list(consent_chains_verify(user_ids=user_ids))
        for chain_break in breaks:
            self.stderr.write(f"BROKEN {chain_break}")
        if breaks:
            raise CommandError(f"{len(breaks)} consent record(s) fail verification.")
        self.stdout.write(self.style.SUCCESS("Every consent chain verifies."))
