"""Benchmark the evidence log: checkpoint cost at two log sizes, and full verification.

    python bench/evidence.py                                   # 1,000,000 records, 200,000 users
    python bench/evidence.py --records 200000 --users 40000    # a quicker run

Needs PostgreSQL. On the server BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432)
points at, it drops and creates its own database ``cg_bench_evidence`` and drops it at the
end (``--keep`` keeps it); nothing else is touched. Heads go to a temporary sink directory,
signed with a key generated for the run.

1. Fill: users, then chains of records (``consent_record_build``, so hashes are the real
   ones) with their state rows and evidence leaves, bulk-inserted in batches.
2. Checkpoint cost: 10,000 new records are appended and checkpointed (sequenced + signed
   + published) while the log is small (``--small`` records), and again once it holds all
   ``--records``. Each is compared with a baseline measured on the same rows in the same
   run: the raw SQL a checkpoint cannot avoid (read the 10,000 queued leaf hashes, write
   their indexes). Large/small near 1.0 means the cost does not grow with the log.
3. Verification: ``evidence_verify`` over everything (chains, leaves, heads, states),
   against a baseline that only reads the same rows (records and log, no hashing). The
   target is <= 60 s for 1,000,000 records on a 2-core machine.
"""

import argparse
import base64
import os
import secrets
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, database_url, recreate_database

NAME = "cg_bench_evidence"
BATCH = 10_000


def say(text: str = "") -> None:
    print(text, flush=True)


def setup(url: str, sink: Path) -> None:
    """Django on the bench database; heads go to ``sink``, signed with the key kept beside it
    (made on the first run, so a ``--reuse`` run trusts the heads of the run that filled it)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["EVIDENCE_SINK_DIR"] = str(sink / "heads")
    key_file = sink / "signing-key"
    if not key_file.exists():
        sink.mkdir(parents=True, exist_ok=True)
        key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ["EVIDENCE_SIGNING_KEY"] = key_file.read_text()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Filler:
    """Appends users' decisions in bulk, chains continuing across calls."""

    def __init__(self, users: int):
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from consent.models import Policy

        User = get_user_model()
        self.policy = Policy.objects.create(
            version="bench",
            title="Bench policy",
            summary="Bench.",
            body="Bench.",
            effective_at=timezone.now() - timedelta(days=400),
            decision_deadline=timezone.now() - timedelta(days=300),
        )
        self.clock = timezone.now() - timedelta(days=300)
        for start in range(0, users, BATCH):
            User.objects.bulk_create(
                User(email=f"u{i}@bench.example", password="!")
                for i in range(start, min(users, start + BATCH))
            )
        self.user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
        self.tips: dict[int, object] = {}
        self.cursor = 0

    def add(self, count: int) -> None:
        from consent.evidence import records_log_append
        from consent.models import Choice, ConsentRecord, Surface, UserConsentState
        from consent.services import consent_record_build

        for start in range(0, count, BATCH):
            records = []
            for _ in range(min(BATCH, count - start)):
                user_id = self.user_ids[self.cursor % len(self.user_ids)]
                self.cursor += 1
                self.clock += timedelta(milliseconds=10)
                previous = self.tips.get(user_id)
                choice = (
                    Choice.OPT_OUT
                    if previous and previous.choice == Choice.OPT_IN
                    else Choice.OPT_IN
                )
                record = consent_record_build(
                    user_id=user_id,
                    policy=self.policy,
                    choice=choice,
                    surface=Surface.SETTINGS,
                    shown_at=self.clock,
                    decided_at=self.clock,
                    form_key=secrets.token_hex(16),
                    previous=previous,
                )
                records.append(record)
                self.tips[user_id] = record
            # Chain order inside a batch: a record's previous must exist when it is inserted.
            depth: dict = {}
            for record in records:
                depth[record.pk] = depth.get(record.previous_id, -1) + 1
            for level in range(max(depth.values()) + 1):
                ConsentRecord.objects.bulk_create([r for r in records if depth[r.pk] == level])
            records_log_append(records)
            touched = {r.user_id: r for r in records}
            UserConsentState.objects.bulk_create(
                [
                    UserConsentState(
                        user_id=user_id,
                        policy=self.policy,
                        choice=r.choice,
                        latest_record=r,
                        tip_hash=r.record_hash,
                        decided_at=r.decided_at,
                        opt_in_since=r if r.choice == Choice.OPT_IN else None,
                    )
                    for user_id, r in touched.items()
                ],
                update_conflicts=True,
                unique_fields=["user"],
                update_fields=["choice", "latest_record", "tip_hash", "decided_at", "opt_in_since"],
            )


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def baseline_checkpoint_sql() -> float:
    """The unavoidable part of a checkpoint, as raw SQL: read the queued hashes, write indexes."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, leaf_hash FROM evidence_logentry WHERE leaf_index IS NULL ORDER BY id"
        )
        rows = cursor.fetchall()
        cursor.execute("SELECT COALESCE(MAX(leaf_index), -1) + 1 FROM evidence_logentry")
        first = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE evidence_logentry SET leaf_index = v.position FROM "
            "(SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS position) v "
            "WHERE evidence_logentry.id = v.id",
            [[r[0] for r in rows], list(range(first, first + len(rows)))],
        )
        transaction.set_rollback(True)  # leave the rows for the real checkpoint
    return time.perf_counter() - started


def checkpoint_measure(filler: Filler, new: int, repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` (the least disturbed by other load) for the checkpoint and baseline."""
    from evidence.services import checkpoint

    seconds, baselines = [], []
    for _ in range(repeat):
        filler.add(new)
        baselines.append(baseline_checkpoint_sql())
        took, result = timed(checkpoint)
        assert result.sequenced == new and result.head is not None
        seconds.append(took)
    return min(seconds), min(baselines)


def baseline_scan() -> float:
    """Reading what verification reads, without hashing or checking anything."""
    from consent.chain import HASHED_FIELDS
    from consent.models import ConsentRecord, UserConsentState
    from evidence.models import LogEntry

    started = time.perf_counter()
    for _ in (
        ConsentRecord.objects.order_by("user_id", "decided_at", "id")
        .values_list(*HASHED_FIELDS, "record_hash")
        .iterator(chunk_size=10_000)
    ):
        pass
    for _ in (
        LogEntry.objects.order_by("leaf_index", "id")
        .values_list("kind", "object_id", "leaf_index", "leaf_hash")
        .iterator(chunk_size=20_000)
    ):
        pass
    for _ in UserConsentState.objects.values_list(
        "user_id", "choice", "policy_id", "latest_record_id", "tip_hash"
    ).iterator(chunk_size=10_000):
        pass
    return time.perf_counter() - started


def database_exists(url: str) -> bool:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def fill_and_checkpoint(args) -> None:
    from django.db import connection

    from evidence.services import checkpoint

    say(f"Filling {args.records:,} records over {args.users:,} users into {args.database} ...")
    started = time.perf_counter()
    filler = Filler(args.users)
    filler.add(args.small - args.new)
    checkpoint()
    small_seconds, small_baseline = checkpoint_measure(filler, args.new, args.repeat)
    filler.add(args.records - filler.cursor - args.repeat * args.new)
    fill_seconds = time.perf_counter() - started
    say(f"  filled in {fill_seconds:.0f} s")
    checkpoint_seconds, _ = timed(lambda: checkpoint(max_batches=10_000))
    say(f"  sequenced and signed the bulk in {checkpoint_seconds:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    large_seconds, large_baseline = checkpoint_measure(filler, args.new, args.repeat)

    say()
    say(f"Checkpoint of {args.new:,} new records (sequence + sign + publish):")
    say(
        f"  log ~{args.small:>9,}: {small_seconds:6.2f} s   raw-SQL baseline "
        f"{small_baseline:5.2f} s   ratio {small_seconds / small_baseline:5.2f}"
    )
    say(
        f"  log ~{args.records:>9,}: {large_seconds:6.2f} s   raw-SQL baseline "
        f"{large_baseline:5.2f} s   ratio {large_seconds / large_baseline:5.2f}"
    )
    say(f"  large/small: {large_seconds / small_seconds:.2f} (1.0 = does not grow with the log)")


def verification_measure(profile: str | None) -> None:
    from consent.verification import evidence_verify

    scan = baseline_scan()
    cpu = time.process_time()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        verify_seconds, report = timed(lambda: profiler.runcall(evidence_verify))
        profiler.dump_stats(profile)
        say(f"  profile written to {profile} (python -m pstats {profile})")
    else:
        verify_seconds, report = timed(evidence_verify)
    cpu = time.process_time() - cpu
    say()
    say(
        f"Full verification of {report.records_checked:,} records, "
        f"{report.leaves_checked:,} leaves, {report.heads_checked} heads, "
        f"{report.states_checked:,} states:"
    )
    say(
        f"  {verify_seconds:.1f} s (target <= 60 s); read-only scan baseline {scan:.1f} s; "
        f"ratio {verify_seconds / scan:.2f}"
    )
    say(
        f"  of which this process's CPU {cpu:.1f} s (the rest is the database's work and "
        f"waiting for a core: load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    say(f"  findings: {len(report.findings)}")
    for finding in report.findings[:10]:
        say(f"    {finding}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=20_000, help="log size of the first measure")
    parser.add_argument("--new", type=int, default=10_000, help="records per checkpoint measured")
    parser.add_argument("--repeat", type=int, default=3, help="checkpoints measured per size")
    parser.add_argument("--database", default=NAME, help=f"database name (default {NAME})")
    parser.add_argument("--keep", action="store_true", help="keep the database and its sink")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="verify a database kept by an earlier --keep run (no fill, no checkpoint measure)",
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the verification into FILE")
    args = parser.parse_args()

    url = database_url(args.database)
    sink = ROOT / "var" / "bench-evidence" / args.database
    reuse = args.reuse and database_exists(url) and (sink / "signing-key").exists()
    if not reuse:
        recreate_database(url)
        shutil.rmtree(sink, ignore_errors=True)
    setup(url, sink)
    from django.db import connection

    if reuse:
        say(f"Reusing {args.database} (filled by an earlier --keep run)")
    else:
        fill_and_checkpoint(args)
    verification_measure(args.profile)
    connection.close()
    if not (args.keep or args.reuse):
        import psycopg

        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(sink, ignore_errors=True)


if __name__ == "__main__":
    main()
