from datetime import datetime, time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from consent import errors
from consent.bundles import BundleScope, evidence_bundle_write
from consent.models import Policy
from evidence.services import checkpoint


class Command(BaseCommand):
    help = (
        "Write a zip of one or more people's consent evidence (records, receipts with proofs, "
        "every screen shown to them and exactly what it showed, policy texts, signed tree "
        "heads, public keys, the standalone verifier and a README) that verifies offline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", type=int, action="append", default=[], help="A user id.")
        parser.add_argument("--users-file", type=Path, help="A file with one user id per line.")
        parser.add_argument("--since", help="Only evidence from this date or time on.")
        parser.add_argument("--policy", help="Only evidence under this policy version.")
        parser.add_argument("--out", type=Path, help="The zip to write (default: var/evidence/).")
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="Sign a fresh tree head first, so the newest records carry proofs too.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        scope = BundleScope(
            user_ids=self._user_ids(options["user"], options["users_file"]),
            since=self._since(options["since"]),
            policy=self._policy(options["policy"]),
        )
        if options["checkpoint"]:
            checkpoint()
        out = options["out"] or Path("var/evidence") / (
            f"evidence-{timezone.now():%Y%m%dT%H%M%S}.zip"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        hide = options["no_progress"] or options["verbosity"] == 0

        def progress(items, **kwargs):
            return tqdm(items, disable=hide, file=self.stderr._out, **kwargs)

        with out.open("wb") as file:
            summary = evidence_bundle_write(scope=scope, out=file, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}: {summary}."))

    def _user_ids(self, ids: list[int], users_file: Path | None) -> list[int]:
        ids = list(ids)
        if users_file is not None:
            for number, line in enumerate(users_file.read_text().splitlines(), start=1):
                text = line.split("#", 1)[0].strip()
                if not text:
                    continue
                if not text.isdigit():
                    raise CommandError(
                        errors.BUNDLE_BAD_USERS_FILE.format(line=number, path=users_file)
                    )
                ids.append(int(text))
        ids = sorted(set(ids))
        if not ids:
            raise CommandError(errors.BUNDLE_NO_USERS)
        known = set(get_user_model().objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise CommandError(errors.BUNDLE_UNKNOWN_USERS.format(ids=", ".join(map(str, unknown))))
        return ids

    def _since(self, text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            day = parse_date(text)
            moment = parse_datetime(text) if day is None else None
        except ValueError as exc:
            raise CommandError(errors.BUNDLE_BAD_SINCE) from exc
        if day is not None:  # from the start of that day, in the site's time zone
            moment = timezone.make_aware(datetime.combine(day, time.min))
        if moment is None or timezone.is_naive(moment):
            raise CommandError(errors.BUNDLE_BAD_SINCE)
        return moment

    def _policy(self, version: str | None) -> Policy | None:
        if not version:
            return None
        policy = Policy.objects.filter(version=version).first()
        if policy is None:
            raise CommandError(errors.BUNDLE_UNKNOWN_POLICY.format(version=version))
        return policy
