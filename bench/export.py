"""Benchmark the training export with and without redaction, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/postgres python bench/export.py
    python bench/export.py                      # no DATABASE_URL: a SQLite file under var/
    DATABASE_URL=postgres://root@127.0.0.1:5432/postgres python bench/export.py --workers 1,2
    ... --conversations 20000 --messages-per 5 --users 2000 --repeat 3   # the defaults

On PostgreSQL it creates (dropping first) its own database ``bench_export`` on the server
DATABASE_URL points at; without DATABASE_URL it uses ``var/bench-export.sqlite3``
(recreated). Nothing else is touched, and the bench database is dropped at the end
unless ``--keep``.

Data: ``--users`` people, each opted in through the real consent service (so the hash
chain and coverage are real), then ``--conversations`` conversations covered by those
opt-ins with ``--messages-per`` messages each, bulk-inserted. Message text is chat-like
prose; about one message in eight carries an email address, a phone number, an IP
address, a card number or an API key, so redaction has real work to do. The tables are
ANALYZEd after loading, as autovacuum would have them on a live database.

With ``--workers 1,2`` it measures scaling instead: for each count it starts that many
one-process Celery workers (Redis on 127.0.0.1, database 10, or BENCH_EXPORT_BROKER_URL), sends the export, waits for
the snapshot, and prints messages/s per count and the speed-up over the first count.

Otherwise each round runs the export service twice into a temporary directory: once as shipped,
once with ``redact`` replaced by an identity function (the rest of the pipeline
unchanged: selection, JSON, hashing, file write, ledger rows). Rounds alternate the
order; the best time of each side counts. It prints messages/s for both and the ratio.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "bench_export"

WORDS = [
    "the",
    "a",
    "model",
    "recipe",
    "bread",
    "travel",
    "plan",
    "budget",
    "letter",
    "landlord",
    "meeting",
    "code",
    "function",
    "error",
    "deploy",
    "server",
    "garden",
    "weather",
    "summary",
    "article",
    "draft",
    "email",
    "week",
    "project",
    "team",
    "question",
    "answer",
    "thanks",
    "please",
    "could",
    "you",
    "help",
    "me",
    "with",
    "this",
    "and",
    "then",
    "also",
    "maybe",
]
# Keys are glued from pieces so secret scanners do not flag this file.
SENSITIVE = [
    "write to {name}.{n}@example.com when you can",
    "call me on +1 415 555 {n:04d} tonight",
    "the server is at 10.{a}.{b}.7 behind the VPN",
    "my card is 4111 1111 1111 1111 do not share",
    "the key is " + "sk-proj-" + "Zb3kP9sQx2Lw7Vn4Rt6Yu1Io8Pa5Sd{n:04d}",
    "my IBAN is DE89 3704 0044 0532 0130 00",
]


def say(text: str = "") -> None:
    print(text, flush=True)


SQLITE_PATH = BASE_DIR / "var" / "bench-export.sqlite3"


def set_database_name(name: str) -> None:
    global DATABASE_NAME, SQLITE_PATH
    DATABASE_NAME = name
    SQLITE_PATH = BASE_DIR / "var" / f"{name}.sqlite3"


def _maintenance_url() -> str | None:
    configured = os.environ.get("BENCH_MAINTENANCE_URL") or os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(configured)._replace(path="/postgres"))
    return None


def _drop_database(maintenance: str | None) -> None:
    if maintenance is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')


def prepare_database() -> str:
    """Point Django at a fresh database of the bench's own; returns a description."""
    maintenance = _maintenance_url()
    # Remembered for the drop at the end, after DATABASE_URL points at the bench database.
    os.environ["BENCH_MAINTENANCE_URL"] = maintenance or ""
    _drop_database(maintenance)
    if maintenance is None:
        os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
        return f"SQLite file {SQLITE_PATH}"
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    os.environ["DATABASE_URL"] = urlunsplit(
        urlsplit(maintenance)._replace(path=f"/{DATABASE_NAME}")
    )
    return f"PostgreSQL database {DATABASE_NAME}"


def django_setup() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory.
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def message_text(rng: random.Random, role: str, n: int) -> str:
    parts = [sentence(rng, rng.randint(8, 20)) for _ in range(3 if role == "user" else 6)]
    if rng.random() < 1 / 8:
        template = rng.choice(SENSITIVE)
        parts.insert(1, template.format(name="jane", n=n % 10000, a=n % 250, b=(n // 250) % 250))
    return " ".join(parts)


def generate(*, users: int, conversations: int, messages_per: int, seed: int, policy=None) -> None:
    import secrets
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from consent.models import Choice, Policy, Surface
    from consent.services import consent_record_create
    from conversations.models import Conversation, Message

    now = timezone.now()
    if policy is None:
        call_command("migrate", verbosity=0)
        policy = Policy.objects.create(
            version="bench",
            title="Bench policy",
            summary="Bench.",
            body="Bench.",
            effective_at=now - timedelta(days=30),
            decision_deadline=now + timedelta(days=30),
        )
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(email=f"bench-export-{i}@example.com", password="!", country="US")
            for i in range(users)
        ],
        batch_size=2000,
    )
    records = {}
    for user in User.objects.filter(email__startswith="bench-export-").order_by("pk"):
        records[user.pk] = consent_record_create(
            user=user,
            policy=policy,
            choice=Choice.OPT_IN,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=now,
        )
    user_ids = sorted(records)
    rng = random.Random(seed)
    later = timezone.now() + timedelta(seconds=1)
    Conversation.objects.bulk_create(
        [
            Conversation(
                user_id=user_ids[i % len(user_ids)],
                title=f"Conversation {i}",
                created_at=later,
                last_activity_at=later,
                covered_by=records[user_ids[i % len(user_ids)]],
                retain_until=later + timedelta(days=1825),
            )
            for i in range(conversations)
        ],
        batch_size=2000,
    )
    batch: list[Message] = []
    n = 0
    made = Conversation.objects.filter(user_id__in=user_ids).order_by("pk")
    for conversation_id in made.values_list("pk", flat=True):
        for position in range(messages_per):
            role = "user" if position % 2 == 0 else "assistant"
            batch.append(
                Message(
                    conversation_id=conversation_id,
                    role=role,
                    content=message_text(rng, role, n),
                    created_at=later,
                )
            )
            n += 1
        if len(batch) >= 10_000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    # Fresh planner statistics, as autovacuum would have them on a live database.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def export_once(directory: Path, *, redacting: bool) -> tuple[float, int, int]:
    """One inline export (every shard in this process); (seconds, messages, bytes written)."""
    import shutil

    from training import services
    from training.redaction import RedactionResult

    def identity(text: str, *, default_region: str = "US") -> RedactionResult:
        return RedactionResult(text=text)

    run_dir = directory / f"export-{time.monotonic_ns()}"
    patch = mock.patch.object(services, "redact", identity) if not redacting else None
    started = time.perf_counter()
    if patch:
        with patch:
            snapshot = services.training_snapshot_export(out_path=run_dir / "manifest.json")
    else:
        snapshot = services.training_snapshot_export(out_path=run_dir / "manifest.json")
    seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in run_dir.rglob("*") if path.is_file())
    shutil.rmtree(run_dir)
    return seconds, snapshot.message_count, size


# --- Workers: the same export written by N Celery workers ------------------------------------

# Its own Redis database: other benches on this machine use 12 and 13.
WORKER_BROKER_URL = os.environ.get("BENCH_EXPORT_BROKER_URL", "redis://127.0.0.1:6379/10")


def export_with_workers(count: int, directory: Path, *, shard_size: int) -> tuple[float, int]:
    """Start ``count`` one-process Celery workers, export through them; (seconds, messages)."""
    import subprocess
    from contextlib import ExitStack

    from django.utils import timezone

    from bench.faults import Worker
    from training.models import ExportStatus, SnapshotExport
    from training.services import snapshot_export_plan
    from training.tasks import shards_send

    database = WORKER_BROKER_URL.rsplit("/", 1)[1]
    subprocess.run(["redis-cli", "-n", database, "flushdb"], capture_output=True, check=True)
    env = {
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "CELERY_BROKER_URL": WORKER_BROKER_URL,
        "TRAINING_EXPORT_DIR": str(directory),
    }
    key = f"bench-{count}w-{time.monotonic_ns()}"
    with ExitStack() as stack:
        for n in range(count):
            stack.enter_context(Worker(f"export-{count}-{n}", env))
        started = time.perf_counter()
        # What `export_training_snapshot` does: plan here, send one task per shard.
        planned = snapshot_export_plan(snapshot_key=key, shard_size=shard_size)
        shards = planned.shards.all()
        shards.update(dispatched_at=timezone.now())
        shards_send(list(shards.values_list("pk", flat=True)))
        while True:
            export = SnapshotExport.objects.filter(snapshot_key=key).first()
            if export is not None and export.status != ExportStatus.RUNNING:
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - started
    if export.status != ExportStatus.DONE:
        raise RuntimeError(f"the export failed: {export.error}")
    return seconds, export.snapshot.message_count


def scaling(worker_counts: list[int], *, shard_size: int, repeat: int) -> None:
    best: dict[int, float] = {}
    messages = 0
    with tempfile.TemporaryDirectory(prefix="bench-export-workers-") as tmp:
        for round_number in range(repeat):
            order = worker_counts if round_number % 2 == 0 else list(reversed(worker_counts))
            for count in order:
                seconds, messages = export_with_workers(count, Path(tmp), shard_size=shard_size)
                best[count] = min(best.get(count, float("inf")), seconds)
                say(
                    f"  round {round_number + 1}, {count} worker(s): {seconds:7.2f} s, "
                    f"{messages / seconds:9.0f} messages/s"
                )
    say()
    say(f"Messages per export: {messages} (shards of {shard_size} conversation ids)")
    base = worker_counts[0]
    for count in worker_counts:
        say(
            f"{count} worker(s) (best): {messages / best[count]:9.0f} messages/s "
            f"({best[count]:.2f} s); x{best[base] / best[count]:.2f} vs {base} worker(s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--messages-per", type=int, default=5)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument(
        "--workers",
        default="",
        help="Comma-separated worker counts (e.g. 1,2): export through that many Celery "
        "workers (Redis database 10, or BENCH_EXPORT_BROKER_URL) instead of the redaction comparison.",
    )
    parser.add_argument(
        "--shard-size", type=int, default=0, help="Conversation ids per shard (default: 1/20)."
    )
    parser.add_argument(
        "--database-name", default=DATABASE_NAME, help="The bench's own database (dropped)."
    )
    args = parser.parse_args()
    set_database_name(args.database_name)

    where = prepare_database()
    if args.workers:
        os.environ["CELERY_BROKER_URL"] = WORKER_BROKER_URL  # this process sends the shards
    django_setup()
    say(f"Database: {where}")
    say(
        f"Generating {args.users} opted-in users, {args.conversations} conversations "
        f"x {args.messages_per} messages ..."
    )
    started = time.perf_counter()
    generate(
        users=args.users,
        conversations=args.conversations,
        messages_per=args.messages_per,
        seed=args.seed,
    )
    say(f"  done in {time.perf_counter() - started:.1f} s")

    if args.workers:
        counts = [int(n) for n in args.workers.split(",")]
        shard_size = args.shard_size or max(1, args.conversations // 20)
        scaling(counts, shard_size=shard_size, repeat=args.repeat)
        finish(args)
        return

    best = {True: float("inf"), False: float("inf")}
    messages = 0
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        for round_number in range(args.repeat):
            order = (True, False) if round_number % 2 == 0 else (False, True)
            for redacting in order:
                seconds, messages, size = export_once(Path(tmp), redacting=redacting)
                best[redacting] = min(best[redacting], seconds)
                label = "with redaction   " if redacting else "without redaction"
                say(
                    f"  round {round_number + 1} {label}: {seconds:7.2f} s, "
                    f"{messages / seconds:9.0f} messages/s, {size / 1e6:.1f} MB"
                )
    with_rate = messages / best[True]
    without_rate = messages / best[False]
    say()
    say(f"Messages per export: {messages}")
    say(f"With redaction (best):    {with_rate:9.0f} messages/s ({best[True]:.2f} s)")
    say(f"Without redaction (best): {without_rate:9.0f} messages/s ({best[False]:.2f} s)")
    say(f"Ratio with/without:       {with_rate / without_rate:9.3f}")

    finish(args)


def finish(args) -> None:
    if not args.keep:
        from django.db import connections

        connections.close_all()
        _drop_database(_maintenance_url())


if __name__ == "__main__":
    main()
