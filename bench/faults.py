"""Fault scenarios against the real stack: gunicorn, Celery workers, Redis and PostgreSQL.

    python bench/faults.py [--only concurrent_submits,purge_kill,redis_outage,postgres_restart,export_kill]
    BENCH_EXPORT_MESSAGES=1000000 python bench/faults.py --only export_kill   # the full size

Each scenario prints one PASS/FAIL line (with what it saw). Needs PostgreSQL
(BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/bench_faults, dropped and
recreated), a local Redis on 127.0.0.1:6379 (the scenarios use database 13) and root, for:

- concurrent_submits: 64 simultaneous POSTs of one decision form (8 gunicorn workers)
  make exactly one record, and every POST gets the same redirect.
- purge_kill: a Celery worker is killed with SIGKILL in the middle of a purge (batches of
  200 over 20,000 due conversations); the next run completes, nothing unexpired or held
  was deleted, and the dead run is marked failed.
- redis_outage: chat, product pages and decisions are served while Redis is shut down
  (``redis-cli shutdown nosave``) for a few seconds and started again; work enqueued
  around the outage (deadline reminders sent on a beat-like schedule, the safety check of
  every new chat) catches up once it is back.
- postgres_restart: PostgreSQL is restarted while wrk loads the product page; the same
  gunicorn workers answer again without a restart.
- export_kill: two Celery workers export a training snapshot (BENCH_EXPORT_MESSAGES,
  default 100,000 messages); one is killed with SIGKILL in the middle of a shard and the
  queued shard messages are lost (this bench's Redis database emptied; with
  BENCH_BROKER_RESTART=1, Redis itself restarted without persistence); a replacement
  worker and a beat-like sweep every 5 s (lease 20 s) finish it. Passes when the snapshot
  is done with one ledger row per conversation, every shard once in the manifest with a
  matching digest, and no stale attempt's file left.

Restarting Redis and PostgreSQL disturbs anything else using them on this machine: the
outages last seconds, and Redis and PostgreSQL are always started again at the end,
whatever happened.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import (
    PYTHON,
    ROOT,
    Server,
    database_url,
    django_setup,
    recreate_database,
    wrk_run,
)

PORT = 8192
BASE = f"http://127.0.0.1:{PORT}"
REDIS_DB_URL = "redis://127.0.0.1:6379/13"
CSRF_SECRET = "benchcsrfsecret0123456789abcdefX"
LOG_DIR = ROOT / "var" / "bench-faults"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
]


def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(name: str, ok: bool, detail: str) -> bool:
    say(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")
    return ok


# --- Processes ------------------------------------------------------------------------------


class Worker:
    """A Celery worker (prefork, one child) in its own process group, logging to var/."""

    def __init__(self, name: str, env: dict[str, str]):
        self.name = name
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.log = LOG_DIR / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Worker":
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log.write_text("")
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{self.name}@faults",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Connected is enough: a task sent before it consumes waits in the queue.
            # ("ready." is not logged: bench.settings disables loggers Celery made earlier.)
            if "Connected to redis" in self.log.read_text():
                return self
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"the Celery worker did not start; see {self.log}")

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and the child running the task."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def redis_up() -> bool:
    return (
        subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip()
        == "PONG"
    )


def redis_ensure_running() -> None:
    if not redis_up():
        subprocess.run(REDIS_START, check=True, capture_output=True)
        for _ in range(50):
            if redis_up():
                return
            time.sleep(0.1)


def postgres_cluster() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def postgres_ctl(action: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", postgres_cluster(), "main", action],
        capture_output=True,
        text=True,
    )


def postgres_ensure_running() -> None:
    if postgres_ctl("status").returncode != 0:
        postgres_ctl("start")
    for _ in range(100):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
            return
        time.sleep(0.1)


def gunicorn_workers(server: Server) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
    return {int(pid) for pid in children.split()}


# --- HTTP -------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(
    method: str, path: str, *, cookie: str, body: str | None = None, timeout: float = 30
) -> tuple[int, str]:
    """(status, Location) of one request; 0 when the connection itself failed."""
    headers = {"Cookie": f"{cookie}; csrftoken={CSRF_SECRET}"}
    if body is not None:
        headers.update(
            {"X-CSRFToken": CSRF_SECRET, "Content-Type": "application/x-www-form-urlencoded"}
        )
    request = urllib.request.Request(
        f"{BASE}{path}",
        data=body.encode() if body is not None else None,
        headers=headers,
        method=method,
    )
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")
    except OSError:
        return 0, ""


def ok(status: int) -> bool:
    return 200 <= status < 400


# --- Data -------------------------------------------------------------------------------------


def prepare() -> dict:
    """Migrate; a policy whose deadline is 5 days away; a decided chat user; 40 undecided
    existing users (due a 7-day reminder)."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from bench._common import session_cookie
    from consent.models import Choice, Policy, Surface
    from consent.services import consent_record_create
    from conversations.services import conversation_start

    call_command("migrate", verbosity=0)
    now = timezone.now()
    Policy.objects.create(
        version="faults",
        title="Bench policy",
        summary="s",
        body="b",
        effective_at=now - timedelta(days=30),
        decision_deadline=now + timedelta(days=5),
    )
    User = get_user_model()
    long_ago = now - timedelta(days=400)
    chat_user = User.objects.create_user(
        "chat@bench.example", "bench-pass-1234", date_joined=long_ago
    )
    consent_record_create(
        user=chat_user,
        policy=Policy.objects.get(),
        choice=Choice.OPT_IN,
        surface=Surface.SETTINGS,
        form_key=secrets.token_hex(16),
        shown_at=now,
    )
    for n in range(5):
        conversation_start(user=chat_user, text=f"Faults conversation {n}")
    reminder_users = [
        User.objects.create_user(f"undecided-{n}@bench.example", None, date_joined=long_ago)
        for n in range(40)
    ]
    return {
        "chat_cookie": session_cookie(chat_user),
        "reminder_user_ids": [u.pk for u in reminder_users],
    }


def flush_queue() -> None:
    subprocess.run(["redis-cli", "-n", "13", "flushdb"], capture_output=True)


# --- Scenarios --------------------------------------------------------------------------------


def concurrent_submits(ctx: dict, url: str) -> bool:
    from bench.load import Pool
    from consent.models import ConsentRecord

    pool = Pool("same-form", 1)
    cookie, body = pool.lines[0].split("\t")
    barrier = threading.Barrier(64)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def submit() -> None:
        barrier.wait()
        answer = http("POST", "/consent/decide/", cookie=cookie, body=body)
        with lock:
            answers.append(answer)

    with Server(port=PORT, env={"DATABASE_URL": url}, workers=8):
        threads = [threading.Thread(target=submit) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    records = ConsentRecord.objects.filter(user_id=pool.user_ids[0]).count()
    statuses = sorted({status for status, _ in answers})
    locations = {location for _, location in answers}
    passed = records == 1 and statuses == [302] and len(locations) == 1
    return verdict(
        "64 concurrent submits of one decision form",
        passed,
        f"{records} record(s); answers {statuses} to {len(locations)} location(s) from {len(answers)} POSTs",
    )


def purge_kill(ctx: dict, url: str) -> bool:
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.utils import timezone

    from conversations.models import Conversation, Message
    from retention.models import RetentionRun, RunStatus

    now = timezone.now()
    User = get_user_model()
    owners = [User.objects.create_user(f"purge-{n}@bench.example", None) for n in range(20)]

    def conversations(count: int, *, retain_until, hold_reason: str = ""):
        made = Conversation.objects.bulk_create(
            [
                Conversation(
                    user=owners[n % len(owners)],
                    title="t",
                    created_at=retain_until - timedelta(days=31),
                    last_activity_at=retain_until - timedelta(days=30),
                    retain_until=retain_until,
                    hold_reason=hold_reason,
                )
                for n in range(count)
            ],
            batch_size=5000,
        )
        Message.objects.bulk_create(
            [
                Message(conversation=c, role="user", content="m", created_at=c.last_activity_at)
                for c in made
                for _ in range(2)
            ],
            batch_size=10000,
        )
        return {c.pk for c in made}

    due = conversations(20_000, retain_until=now - timedelta(days=1))
    kept = conversations(3_000, retain_until=now + timedelta(days=30))
    held = conversations(
        300, retain_until=now - timedelta(days=1), hold_reason="legal hold (bench)"
    )
    say(f"  {len(due)} due, {len(kept)} not yet due, {len(held)} due but held")
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS_DB_URL,
        "RETENTION_PURGE_BATCH_SIZE": "200",
    }
    flush_queue()

    from retention.tasks import purge_expired_conversations

    with Worker("purge-1", env) as worker:
        purge_expired_conversations.delay()
        deadline = time.monotonic() + 120
        run = None
        while time.monotonic() < deadline:
            run = RetentionRun.objects.filter(dry_run=False).order_by("-pk").first()
            if run is not None and (run.batches >= 5 or run.status != RunStatus.RUNNING):
                break
            time.sleep(0.05)
        worker.kill()
    connections.close_all()
    killed = RetentionRun.objects.get(pk=run.pk)
    remaining_after_kill = Conversation.objects.filter(pk__in=due).count()
    say(
        f"  worker killed after batch {killed.batches} (run {killed.status}); "
        f"{len(due) - remaining_after_kill} of {len(due)} due deleted so far"
    )
    if killed.status != RunStatus.RUNNING or remaining_after_kill == 0:
        return verdict(
            "worker killed mid-purge",
            False,
            "the purge finished before the kill: nothing was tested",
        )
    intact_after_kill = Conversation.objects.filter(pk__in=kept | held).count() == len(kept) + len(
        held
    )

    with Worker("purge-2", env):
        purge_expired_conversations.delay()  # the next scheduled run
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            latest = RetentionRun.objects.filter(dry_run=False).order_by("-pk").first()
            if latest.pk != killed.pk and latest.status != RunStatus.RUNNING:
                break
            time.sleep(0.2)
    latest = RetentionRun.objects.filter(dry_run=False).order_by("-pk").first()
    killed.refresh_from_db()
    left_due = Conversation.objects.filter(pk__in=due).count()
    left_kept = Conversation.objects.filter(pk__in=kept).count()
    left_held = Conversation.objects.filter(pk__in=held).count()
    orphans = Message.objects.exclude(conversation_id__in=Conversation.objects.values("pk")).count()
    passed = (
        intact_after_kill
        and latest.pk != killed.pk
        and latest.status == RunStatus.SUCCEEDED
        and latest.exhausted
        and left_due == 0
        and left_kept == len(kept)
        and left_held == len(held)
        and orphans == 0
        and killed.status == RunStatus.FAILED
    )
    return verdict(
        "worker killed with SIGKILL mid-purge",
        passed,
        f"next run {latest.status} (exhausted={latest.exhausted}); due left {left_due}; "
        f"not-yet-due kept {left_kept}/{len(kept)}; held kept {left_held}/{len(held)}; "
        f"orphan messages {orphans}; killed run now {killed.status}",
    )


def redis_outage(ctx: dict, url: str) -> bool:
    from django.db import connections

    from bench.classifiers import MARKER
    from bench.load import Pool
    from consent.models import DeadlineReminder
    from conversations.models import Conversation

    pool = Pool("redis", 3000)
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS_DB_URL,
        "BENCH_SAFETY_CLASSIFIER": "bench.classifiers.flag_marked",
    }
    flush_queue()
    phase = ["before"]
    seen: list[tuple[str, str, int, float]] = []
    beat: dict[str, int] = {"sent": 0, "failed": 0}
    stop = threading.Event()
    cookie = ctx["chat_cookie"]

    def traffic() -> None:
        n = 0
        while not stop.is_set() and n < len(pool.lines):
            entry_cookie, body = pool.lines[n].split("\t")
            for kind, method, path, who, data in [
                ("page", "GET", "/conversations/", cookie, None),
                ("decision", "POST", "/consent/decide/", entry_cookie, body),
                ("chat", "POST", "/conversations/new/", cookie, f"text={MARKER}+{n}"),
            ]:
                started = time.monotonic()
                status, _ = http(method, path, cookie=who, body=data)
                seen.append((phase[0], kind, status, time.monotonic() - started))
            n += 1

    def beat_like() -> None:
        # What celery beat does every tick: send the task, log and carry on if it cannot.
        from consent.tasks import send_deadline_reminders

        while not stop.is_set():
            try:
                send_deadline_reminders.delay()
                beat["sent"] += 1
            except Exception:
                beat["failed"] += 1
            stop.wait(1.0)

    try:
        with Server(port=PORT, env=env), Worker("redis", env):
            threads = [threading.Thread(target=traffic), threading.Thread(target=beat_like)]
            for thread in threads:
                thread.start()
            time.sleep(3)
            phase[0] = "outage"
            subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True)
            outage_started = time.monotonic()
            time.sleep(5)
            redis_ensure_running()
            outage = time.monotonic() - outage_started
            phase[0] = "after"
            time.sleep(3)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            # Catch-up: the worker reconnects; the next beat-like ticks send the reminders and
            # sweep the safety checks whose per-post enqueue was lost in the outage.
            from consent.tasks import send_deadline_reminders
            from conversations.tasks import sweep_safety_checks

            send_deadline_reminders.delay()
            sweep_safety_checks.delay()
            connections.close_all()
            marked = Conversation.objects.filter(title__startswith=MARKER)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                reminded = DeadlineReminder.objects.filter(
                    user_id__in=ctx["reminder_user_ids"]
                ).count()
                unflagged = marked.filter(safety_flagged_at__isnull=True).count()
                if reminded >= len(ctx["reminder_user_ids"]) and unflagged == 0:
                    break
                time.sleep(0.5)
    finally:
        redis_ensure_running()

    def tally(kind: str, which: str) -> str:
        rows = [s for p, k, s, _ in seen if k == kind and p == which]
        bad = [s for s in rows if not ok(s)]
        return f"{len(rows) - len(bad)}/{len(rows)}" + (
            f" (errors {sorted(set(bad))})" if bad else ""
        )

    slowest = max((t for p, _, _, t in seen if p == "outage"), default=0)
    reminder_rows = DeadlineReminder.objects.filter(user_id__in=ctx["reminder_user_ids"])
    reminded_users = reminder_rows.values("user_id").distinct().count()
    marked_total = marked.count()
    flagged = marked.filter(safety_flagged_at__isnull=False).count()
    say(f"  Redis down {outage:.1f} s; beat-like sends ok {beat['sent']}, failed {beat['failed']}")
    for which in ("before", "outage", "after"):
        say(
            f"  {which:<6}: pages {tally('page', which)}, decisions {tally('decision', which)}, "
            f"chat posts {tally('chat', which)}"
        )
    say(f"  slowest request during the outage {slowest:.2f} s")
    served = all(ok(s) for p, k, s, _ in seen if k in ("page", "decision"))
    chats_served = all(ok(s) for _, k, s, _ in seen if k == "chat")
    caught_up = (
        reminded_users == len(ctx["reminder_user_ids"]) == reminder_rows.count()
        and flagged == marked_total
    )
    return verdict(
        "Redis stopped during traffic",
        served and chats_served and caught_up,
        f"pages and decisions {'all served' if served else 'FAILED'}; chat posts "
        f"{'all served' if chats_served else 'FAILED'}; reminders {reminded_users}/"
        f"{len(ctx['reminder_user_ids'])} users ({reminder_rows.count()} sent); safety checks "
        f"{flagged}/{marked_total} marked chats flagged",
    )


def postgres_restart(ctx: dict, url: str) -> bool:
    from django.db import connections

    from bench.load import Pool

    cookie = ctx["chat_cookie"]
    restart: dict[str, object] = {}
    try:
        with Server(port=PORT, env={"DATABASE_URL": url}) as server:
            workers_before = gunicorn_workers(server)
            pool = Pool("pg", 5)
            connections.close_all()

            def restart_soon() -> None:
                time.sleep(3)
                started = time.monotonic()
                restart["result"] = postgres_ctl("restart")
                restart["seconds"] = time.monotonic() - started

            thread = threading.Thread(target=restart_soon)
            thread.start()
            _, out = wrk_run(f"{BASE}/conversations/", seconds=10, cookie=cookie, allow_errors=True)
            thread.join()
            postgres_ensure_running()
            # The same processes must answer now: no restart, no warm-up beyond health checks.
            statuses = [http("GET", "/conversations/", cookie=cookie)[0] for _ in range(20)]
            entry_cookie, body = pool.lines[0].split("\t")
            decision = http("POST", "/consent/decide/", cookie=entry_cookie, body=body)[0]
            workers_after = gunicorn_workers(server)
    finally:
        postgres_ensure_running()
        connections.close_all()
    import re

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out)
    say(
        f"  restart took {restart.get('seconds', 0):.1f} s (exit {restart['result'].returncode}); "
        f"under wrk: {total.group(1) if total else '?'} requests, "
        f"{errors.group(1) if errors else 0} non-2xx/3xx"
        + (f", socket errors {socket_errors.group(1)}" if socket_errors else "")
    )
    passed = all(s == 200 for s in statuses) and decision == 302 and workers_before == workers_after
    return verdict(
        "PostgreSQL restarted under load",
        passed,
        f"afterwards {sum(s == 200 for s in statuses)}/20 product pages 200, decision POST {decision}; "
        f"gunicorn workers {'unchanged' if workers_before == workers_after else 'REPLACED'}",
    )


def export_kill(ctx: dict, url: str) -> bool:
    """Two workers export; one is killed with SIGKILL mid-shard and Redis restarts (queued
    shard messages lost). A replacement worker and the beat-like sweep finish the snapshot."""
    import json as jsonlib

    from django.core.files.storage import FileSystemStorage
    from django.db import connections

    from bench.export import generate
    from consent.models import Policy
    from conversations.models import Conversation
    from training.models import (
        ExportStatus,
        ShardStatus,
        SnapshotExport,
        SnapshotShard,
        TrainingUse,
    )
    from training.storage import read_shard_lines, sha256_of
    from training.tasks import advance_training_exports, export_training_snapshot

    messages_wanted = int(os.environ.get("BENCH_EXPORT_MESSAGES", "100000"))
    per = 5
    conversations = messages_wanted // per
    generate(
        users=max(10, conversations // 100),
        conversations=conversations,
        messages_per=per,
        seed=7,
        policy=Policy.objects.get(version="faults"),
    )
    connections.close_all()
    export_dir = LOG_DIR / "exports"
    export_dir.mkdir(parents=True, exist_ok=True)
    env = {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS_DB_URL,
        "TRAINING_EXPORT_DIR": str(export_dir),
        "TRAINING_SHARD_LEASE_SECONDS": "20",
        "TRAINING_SHARD_SIZE": str(max(1, conversations // 40)),  # 40 shards
    }
    os.environ["TRAINING_SHARD_LEASE_SECONDS"] = "20"
    flush_queue()
    key = f"faults-{int(time.time())}"
    say(f"  {conversations} conversations x {per} messages; 2 workers; 40 shards; lease 20 s")
    started = time.monotonic()

    def export_row():
        return SnapshotExport.objects.filter(snapshot_key=key).first()

    def sweep_until_done(deadline: float) -> None:
        # What celery beat does every minute (here every 5 s): finalise, resend lost shards.
        while time.monotonic() < deadline:
            row = export_row()
            if row is not None and row.status != ExportStatus.RUNNING:
                return
            advance_training_exports.delay()
            time.sleep(5)

    try:
        with Worker("export-a", env) as victim, Worker("export-b", env):
            export_training_snapshot.delay(snapshot_key=key)
            deadline = time.monotonic() + 600
            killed_shard = None
            while time.monotonic() < deadline:
                row = export_row()
                if row is not None:
                    done = row.shards.filter(status=ShardStatus.DONE).count()
                    running = row.shards.filter(
                        status=ShardStatus.RUNNING, worker__startswith="export-a@"
                    ).first()
                    if done >= 2 and running is not None:
                        killed_shard = running
                        break
                time.sleep(0.05)
            victim.kill()
            say(f"  killed export-a in shard {killed_shard.index if killed_shard else '?'}")
            if os.environ.get("BENCH_BROKER_RESTART") == "1":
                subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True)
                redis_ensure_running()
                say("  Redis restarted without persistence: queued shard messages are gone")
            else:
                # The same loss without disturbing other users of this Redis: this bench's
                # database (queue and unacknowledged messages) is emptied.
                flush_queue()
                say("  broker database emptied: queued shard messages are gone")
            with Worker("export-c", env):
                sweep_until_done(time.monotonic() + 1800)
    finally:
        redis_ensure_running()
    connections.close_all()
    seconds = time.monotonic() - started
    row = export_row()
    if row is None or row.status != ExportStatus.DONE:
        return verdict(
            "worker killed mid-export",
            False,
            f"export {row.status if row else 'never planned'}: {row.error if row else ''}",
        )
    snapshot = row.snapshot
    uses = TrainingUse.objects.filter(snapshot=snapshot)
    used_ids = list(uses.values_list("conversation_id", flat=True))
    # Every covered conversation here has messages and an opted-in owner: all are due.
    expected = set(
        Conversation.objects.filter(covered_by__isnull=False).values_list("pk", flat=True)
    )
    storage = FileSystemStorage(location=str(export_dir))  # the workers' export storage
    manifest = jsonlib.loads(storage.open(row.manifest_name).read())
    indexes = [shard["index"] for shard in manifest["shards"]]
    lines = 0
    digests_ok = True
    for shard in manifest["shards"]:
        digests_ok &= sha256_of(Path(storage.path(shard["file"]))) == shard["sha256"]
        lines += sum(1 for _ in read_shard_lines(storage, shard["file"]))
    retried = SnapshotShard.objects.filter(export=row, attempt__gt=1).count()
    listed = set(storage.listdir(manifest["shards"][0]["file"].rsplit("/", 1)[0])[1])
    extra_files = len(listed) - len(manifest["shards"])
    passed = (
        len(used_ids) == len(set(used_ids)) == len(expected)
        and set(used_ids) == expected
        and sorted(indexes) == list(range(row.shard_count))
        and len(indexes) == len(set(indexes))
        and digests_ok
        and lines == len(used_ids)
        and extra_files == 0
        and retried >= 1
    )
    return verdict(
        "worker killed with SIGKILL mid-export, queued shard messages lost",
        passed,
        f"snapshot done in {seconds:.0f} s: {snapshot.message_count} messages, "
        f"{len(used_ids)} ledger rows for {len(expected)} conversations "
        f"({len(used_ids) - len(set(used_ids))} duplicates); manifest {len(indexes)}/"
        f"{row.shard_count} shards, each once, digests {'ok' if digests_ok else 'WRONG'}; "
        f"{lines} lines; {retried} shard(s) written again; {extra_files} stale files left",
    )


SCENARIOS = {
    "concurrent_submits": concurrent_submits,
    "purge_kill": purge_kill,
    "redis_outage": redis_outage,
    "postgres_restart": postgres_restart,
    "export_kill": export_kill,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help="comma-separated scenario names"
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]

    url = database_url("bench_faults")
    recreate_database(url)
    os.environ["CELERY_BROKER_URL"] = REDIS_DB_URL  # this process enqueues too
    django_setup(url)
    ctx = prepare()
    results = []
    try:
        for name in chosen:
            say(f"{name}:")
            try:
                results.append(SCENARIOS[name](ctx, url))
            except Exception as error:  # a scenario that crashes is a failed scenario
                results.append(verdict(name, False, f"crashed: {error!r}"))
    finally:
        redis_ensure_running()
        postgres_ensure_running()
        flush_queue()  # a killed task's message would otherwise wait there for an hour
    say()
    say(f"{sum(results)}/{len(results)} scenarios passed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    main()
