"""Benchmark the retention purge against raw SQL deletes, and its memory at two sizes.

    DATABASE_URL=postgres://root@127.0.0.1:5432/postgres python bench/purge.py
    ... python bench/purge.py --conversations 1000000 --messages-per 5   # the defaults

Needs PostgreSQL. On the server DATABASE_URL points at, it creates (dropping
first) its own databases, ``bench_purge`` and the scratch copy ``bench_purge_run``,
and drops both at the end (``--keep`` keeps ``bench_purge``); nothing else is touched.

It generates N conversations (half due, interleaved by id) with
``--messages-per`` messages each, set-based with ``generate_series``, once, into
``bench_purge``. Every measurement then runs on a fresh file copy of it
(``CREATE DATABASE ... TEMPLATE``), so all start from identical data and layout:

  (a) the service, ``retention_purge_run``, in a child process (rows/s, peak RSS);
  (b) the same rows deleted by one raw DELETE per table, in one transaction;
  (c) raw batched DELETEs of the same batch size (keyset, one commit per batch).

Each runs ``--repeat`` times, interleaved in a rotating order; the best time of
each counts (the least disturbed by other load). It prints service/raw-batched (target >= 0.9)
and service/single (target >= 0.5). Peak RSS (VmHWM) of the service is measured
in a fresh child process at ``--rss-small`` conversations and at N: flat means
memory does not grow with N.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
# Fixed cutoff: identical data and identical due rows for every measurement.
CUTOFF = datetime(2027, 1, 1, tzinfo=UTC)
USERS = 1000


def say(text: str = "") -> None:
    print(text, flush=True)


def database_url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def django_setup(url: str) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory: it would skew RSS.
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def vm_hwm_kb() -> int:
    """Peak resident set size of this process so far (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- Child: the service alone, so its peak RSS is its own -----------------------------------


def child_service(batch_size: int) -> None:
    django_setup(os.environ["DATABASE_URL"])
    from django.db import connection

    from retention.services import retention_purge_run

    connection.ensure_connection()
    baseline = vm_hwm_kb()
    started = time.perf_counter()
    run = retention_purge_run(now=CUTOFF, batch_size=batch_size, max_batches=2_000_000_000)
    seconds = time.perf_counter() - started
    say(
        json.dumps(
            {
                "conversations": run.conversations_deleted,
                "messages": run.messages_deleted,
                "batches": run.batches,
                "seconds": seconds,
                "baseline_kb": baseline,
                "peak_kb": vm_hwm_kb(),
                "status": run.status,
            }
        )
    )


# --- Databases ----------------------------------------------------------------------------


class Server:
    """Creates, copies and drops the bench databases through the maintenance connection."""

    def __init__(self, base_url: str) -> None:
        import psycopg

        self.base_url = base_url
        self.conn = psycopg.connect(base_url, autocommit=True)
        self.version = self.conn.execute("SHOW server_version_num").fetchone()[0]

    def drop(self, name: str) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, name: str, template: str | None = None) -> None:
        import psycopg

        self.drop(name)
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{template}"'
            if int(self.version) >= 150000:
                sql += " STRATEGY FILE_COPY"  # A file copy; WAL-logging 1 GB is much slower.
        for _ in range(30):
            try:
                self.conn.execute(sql)
                return
            except psycopg.errors.ObjectInUse:
                time.sleep(1)  # autovacuum visiting the template; it leaves shortly
        raise RuntimeError(f"could not copy {template}: still in use")


def generate(conversations: int, messages_per: int) -> float:
    """Fresh data: USERS users, N conversations (even ids due), messages_per messages each."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE conversations_message, retention_hold, conversations_conversation, "
            "retention_retentionrun, retention_purgelock RESTART IDENTITY"
        )
        cursor.execute("SELECT count(*) FROM accounts_user")
        if cursor.fetchone()[0] < USERS:
            cursor.execute(
                """
                INSERT INTO accounts_user (id, password, is_superuser, email, display_name, country,
                                           is_staff, is_active, date_joined)
                SELECT g, '!', false, 'bench' || g || '@example.com', '', '', false, true, %s
                FROM generate_series(1, %s) AS g
                """,
                [CUTOFF, USERS],
            )
        # Even ids are due (retain_until before the cutoff), odd ids are kept.
        cursor.execute(
            """
            INSERT INTO conversations_conversation
                (id, user_id, title, created_at, last_activity_at, covered_by_id, retain_until,
                 hold_reason, hold_until, safety_flagged_at)
            SELECT g, 1 + g %% %s, 'Conversation ' || g,
                   %s - interval '400 days', %s - interval '40 days', NULL,
                   CASE WHEN g %% 2 = 0 THEN %s - interval '1 day' - (g %% 1440) * interval '1 minute'
                        ELSE %s + interval '1 day' + (g %% 1440) * interval '1 minute' END,
                   '', NULL, NULL
            FROM generate_series(1, %s) AS g
            """,
            [USERS, CUTOFF, CUTOFF, CUTOFF, CUTOFF, conversations],
        )
        cursor.execute(
            """
            INSERT INTO conversations_message (id, conversation_id, role, content, created_at)
            SELECT g, 1 + (g - 1) / %s,
                   CASE WHEN g %% 2 = 0 THEN 'assistant' ELSE 'user' END,
                   'message ' || g || ': ' || repeat('some words of a chat ', 8),
                   %s - interval '40 days'
            FROM generate_series(1, %s) AS g
            """,
            [messages_per, CUTOFF, conversations * messages_per],
        )
        for table in ("accounts_user", "conversations_conversation", "conversations_message"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cursor.execute(
            "VACUUM ANALYZE conversations_conversation, conversations_message, accounts_user"
        )
        cursor.execute("CHECKPOINT")
    connection.close()  # A template cannot be copied while anyone is connected to it.
    return time.perf_counter() - started


# --- The three ways to delete ---------------------------------------------------------------


def run_service_child(url: str, batch_size: int) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child-service", "--batch-size", str(batch_size)],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def due_counts(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        due = conn.execute(
            "SELECT count(*) FROM conversations_conversation WHERE retain_until < %s", [CUTOFF]
        ).fetchone()[0]
        messages = conn.execute(
            """SELECT count(*) FROM conversations_message m
               JOIN conversations_conversation c ON c.id = m.conversation_id
               WHERE c.retain_until < %s""",
            [CUTOFF],
        ).fetchone()[0]
    return due, messages


def raw_single(url: str, batch_size: int) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        with conn.transaction():
            messages = conn.execute(
                """DELETE FROM conversations_message WHERE conversation_id IN
                   (SELECT id FROM conversations_conversation WHERE retain_until < %s)""",
                [CUTOFF],
            ).rowcount
            conversations = conn.execute(
                "DELETE FROM conversations_conversation WHERE retain_until < %s", [CUTOFF]
            ).rowcount
        seconds = time.perf_counter() - started
    return {"conversations": conversations, "messages": messages, "seconds": seconds}


def raw_batched(url: str, batch_size: int) -> dict:
    import psycopg

    conversations = messages = last = 0
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        while True:
            with conn.transaction():
                ids = [
                    row[0]
                    for row in conn.execute(
                        """SELECT id FROM conversations_conversation
                           WHERE retain_until < %s AND id > %s ORDER BY id LIMIT %s""",
                        [CUTOFF, last, batch_size],
                    )
                ]
                if not ids:
                    break
                last = ids[-1]
                # One array parameter, as the service sends on PostgreSQL (services._in_ids).
                messages += conn.execute(
                    "DELETE FROM conversations_message WHERE conversation_id = ANY(%s)", [ids]
                ).rowcount
                conversations += conn.execute(
                    "DELETE FROM conversations_conversation WHERE id = ANY(%s)", [ids]
                ).rowcount
        seconds = time.perf_counter() - started
    return {"conversations": conversations, "messages": messages, "seconds": seconds}


def service(url: str, batch_size: int) -> dict:
    return run_service_child(url, batch_size)


METHODS = {"(a) service": service, "(b) raw single": raw_single, "(c) raw batched": raw_batched}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages-per", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each method; best counts.")
    parser.add_argument(
        "--rss-small", type=int, default=250_000, help="Smaller size for the peak-RSS comparison."
    )
    parser.add_argument("--database", default="bench_purge")
    parser.add_argument("--keep", action="store_true", help="Keep the generated database.")
    parser.add_argument("--child-service", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_service:
        child_service(args.batch_size)
        return

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL server, e.g. postgres://root@127.0.0.1:5432/postgres"
        )
    n, per, batch = args.conversations, args.messages_per, args.batch_size
    template, scratch = args.database, f"{args.database}_run"
    template_url, scratch_url = database_url(base_url, template), database_url(base_url, scratch)
    server = Server(base_url)
    server.drop(scratch)
    server.create(template)
    django_setup(template_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    say(f"PostgreSQL {server.version}; databases {template}, {scratch}; cutoff {CUTOFF:%Y-%m-%d}")
    say(
        f"python bench/purge.py --conversations {n} --messages-per {per} --batch-size {batch} "
        f"--repeat {args.repeat} --rss-small {args.rss_small}"
    )

    rss = {}
    if args.rss_small and args.rss_small < n:
        seconds = generate(args.rss_small, per)
        server.create(scratch, template=template)
        rss[args.rss_small] = run_service_child(scratch_url, batch)
        say(f"\n[{args.rss_small} conversations] generated in {seconds:.1f} s; service purged it")

    seconds = generate(n, per)
    server.create(scratch, template=template)
    due, due_messages = due_counts(scratch_url)
    say(
        f"\n[{n} conversations, {n * per} messages] generated in {seconds:.1f} s; "
        f"due: {due} conversations, {due_messages} messages; batch size {batch}"
    )
    best: dict[str, dict] = {}
    times: dict[str, list[float]] = {name: [] for name in METHODS}
    names = list(METHODS)
    for attempt in range(1, args.repeat + 1):
        # Rotate the order each round, so no method always follows the same one.
        shift = (attempt - 1) % len(names)
        for name in names[shift:] + names[:shift]:
            method = METHODS[name]
            server.create(scratch, template=template)
            result = method(scratch_url, batch)
            assert (result["conversations"], result["messages"]) == (due, due_messages), (
                f"{name} deleted {result['conversations']}/{result['messages']}, "
                f"expected {due}/{due_messages}"
            )
            rows = result["conversations"] + result["messages"]
            result["rate"] = rows / result["seconds"]
            say(
                f"{name:<16} run {attempt}: {result['conversations']:>8} conv "
                f"{result['messages']:>9} msg {result['seconds']:7.1f} s {result['rate']:>10,.0f} rows/s"
            )
            times[name].append(result["seconds"])
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
    server.drop(scratch)
    if not args.keep:
        server.drop(template)
    rss[n] = best["(a) service"]

    say(f"\nbest of {args.repeat} (median in brackets):")
    for name in METHODS:
        result = best[name]
        say(
            f"  {name:<16} {result['seconds']:7.1f} s {result['rate']:>10,.0f} rows/s"
            f"  ({statistics.median(times[name]):.1f} s)"
        )
    rate = {name: result["rate"] for name, result in best.items()}
    say(
        f"service / raw batched = {rate['(a) service'] / rate['(c) raw batched']:.2f}  (target >= 0.9)"
    )
    say(
        f"service / raw single  = {rate['(a) service'] / rate['(b) raw single']:.2f}  (target >= 0.5)"
    )
    say("\npeak RSS of the service (VmHWM, fresh child process per size):")
    for size, result in sorted(rss.items()):
        say(
            f"  {size:>9} conversations: peak {result['peak_kb'] / 1024:6.1f} MiB "
            f"(after setup {result['baseline_kb'] / 1024:6.1f} MiB, "
            f"+{(result['peak_kb'] - result['baseline_kb']) / 1024:.1f} MiB during the purge)"
        )


if __name__ == "__main__":
    main()
