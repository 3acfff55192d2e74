"""Webhook delivery under faults and load: the real stack (Celery workers, Redis, PostgreSQL).

    python bench/webhooks.py [--outage-seconds 600] [--events 20000] [--only outage,kill,throughput]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/bench_webhooks,
dropped and recreated) and Redis on 127.0.0.1:6379 (database 12 is flushed). The receiver is
the documented one, ``tools/webhook_receiver.py``, in its own process: it verifies each
signature, handles each ``webhook-id`` once (its log is the handler's effect, kept across
restarts) and counts the duplicates it ignored. Each scenario prints PASS/FAIL with counts:

- outage: decisions keep flowing (about 20 a second, 40 people) while the receiver is down
  for ``--outage-seconds`` (default 10 minutes); after it is back, every event is handled
  exactly once, in each person's sequence order, none lost.
- kill: the only worker is killed with SIGKILL while it delivers a backlog of 20,000
  events; another worker is started, the dead one's leases run out
  (WEBHOOKS_LEASE_SECONDS=15 here) and it delivers the rest: all handled once, in order;
  the redeliveries the receiver ignored (sent, but not yet recorded) are counted.
- throughput: ``--events`` events (2,000 people) delivered by 2 worker processes to the
  local receiver, against a baseline measured in the same run: the same number of signed
  POSTs sent straight from 2 processes, without the outbox. Target: >= 500 events/s.

The minute beat sweep is stood in for by a sweep every 2 seconds (the scenarios would
otherwise wait up to a minute between retries), and retries are capped at 10 seconds
(WEBHOOKS_RETRY_MAX_SECONDS): both only shorten the waits, not what is delivered.
"""

import argparse
import json
import multiprocessing
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import PYTHON, ROOT, database_url, django_setup, recreate_database

BROKER_URL = "redis://127.0.0.1:6379/12"
LOG_DIR = ROOT / "var" / "bench-webhooks"
ENV = {
    "CELERY_BROKER_URL": BROKER_URL,
    "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
    "WEBHOOKS_RETRY_MAX_SECONDS": "10",
    "WEBHOOKS_LEASE_SECONDS": "15",
    "WEBHOOKS_BATCH_SIZE": "200",
}


class Worker:
    """A Celery worker (prefork, one child) in its own process group."""

    started: list["Worker"] = []  # every one, stopped at the end whatever happened

    def __init__(self, name: str):
        self.name = name
        self.log = LOG_DIR / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
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
                f"{self.name}@bench-webhooks",
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)},
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        Worker.started.append(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "Connected to redis" in self.log.read_text():
                return self
            time.sleep(0.3)
        raise RuntimeError(f"the Celery worker did not start; see {self.log}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class Receiver:
    """tools/webhook_receiver.py in its own process; stop() returns the duplicates it ignored."""

    started: list["Receiver"] = []

    def __init__(self, *, secret: str, port: int, log: Path):
        self.secret, self.port, self.log = secret, port, log
        self.process: subprocess.Popen | None = None
        self.duplicates = 0

    def start(self) -> "Receiver":
        self.process = subprocess.Popen(
            [
                PYTHON,
                str(ROOT / "tools" / "webhook_receiver.py"),
                "--secret",
                self.secret,
                "--port",
                str(self.port),
                "--log",
                str(self.log),
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        Receiver.started.append(self)
        self.process.stdout.readline()  # "listening on ..."
        return self

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=30)
        # "stopped; N events handled, D duplicates ignored"
        self.duplicates += int(out.strip().rsplit(",", 1)[1].split()[0])

    def log_lines(self) -> int:
        if not self.log.exists():
            return 0
        with self.log.open("rb") as log:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: log.read(1 << 16), b""))

    def handled(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sweeping(stop: threading.Event) -> threading.Thread:
    """Stand-in for the minute beat entry: a sweep every 2 seconds."""
    from webhooks.tasks import webhooks_sweep

    def run():
        while not stop.wait(2):
            webhooks_sweep.delay()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def subscriber_for(name: str) -> tuple:
    """Pause every other subscriber; a new one to a fresh receiver."""
    from webhooks.models import EventType, Subscriber, SubscriberStatus
    from webhooks.services import subscriber_create

    # Earlier scenarios' subscribers take no new events (paused ones would still queue them).
    Subscriber.objects.update(status=SubscriberStatus.PAUSED, event_types=[])
    port = free_port()
    subscriber, secret = subscriber_create(
        name=name, url=f"http://127.0.0.1:{port}/", event_types=EventType.values
    )
    log = LOG_DIR / f"received-{name}.jsonl"
    log.unlink(missing_ok=True)
    return subscriber, Receiver(secret=secret, port=port, log=log)


def wait_drained(subscriber, *, timeout: float) -> bool:
    from webhooks.models import OPEN_STATUSES, Delivery, Event

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        relayed = not Event.objects.filter(fanned_out_at__isnull=True).exists()
        if (
            relayed
            and not Delivery.objects.filter(
                subscriber=subscriber, status__in=OPEN_STATUSES
            ).exists()
        ):
            return True
        time.sleep(0.5)
    return False


def check(name: str, subscriber, receiver: Receiver, *, extra: str = "") -> bool:
    """Every event relayed to ``subscriber`` handled once, in each person's order."""
    from webhooks.models import Delivery, DeliveryStatus

    expected = set(
        str(pk)
        for pk in Delivery.objects.filter(subscriber=subscriber).values_list("event_id", flat=True)
    )
    handled = receiver.handled()
    ids = [row["webhook_id"] for row in handled]
    last: dict[str, int] = {}
    out_of_order = 0
    for row in handled:
        data = row["payload"]["data"]
        if data["sequence"] <= last.get(data["subject"], 0):
            out_of_order += 1
        last[data["subject"]] = data["sequence"]
    dead = Delivery.objects.filter(
        subscriber=subscriber, status=DeliveryStatus.DEAD_LETTERED
    ).count()
    lost = len(expected - set(ids))
    twice = len(ids) - len(set(ids))
    ok = lost == 0 and twice == 0 and out_of_order == 0 and dead == 0 and set(ids) == expected
    print(
        f"{'PASS' if ok else 'FAIL'} {name}: {len(expected)} events, {len(set(ids))} handled once, "
        f"{twice} handled twice, {lost} lost, {out_of_order} out of order, {dead} dead-lettered, "
        f"{receiver.duplicates} redeliveries ignored by the receiver{extra}",
        flush=True,
    )
    return ok


# --- Scenarios ------------------------------------------------------------------------------


def scenario_outage(outage_seconds: float, workers: list[Worker]) -> bool:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.models import Choice, Policy, Surface
    from consent.services import consent_record_create

    now = timezone.now()
    policy, _ = Policy.objects.get_or_create(
        version="bench-webhooks",
        defaults={
            "title": "Bench",
            "summary": "s",
            "body": "b",
            "effective_at": now - timedelta(days=10),
            "decision_deadline": now + timedelta(days=20),
        },
    )
    User = get_user_model()
    people = [
        User.objects.create_user(f"outage{n}@bench.example", "bench-pass-1234") for n in range(40)
    ]
    subscriber, receiver = subscriber_for("outage")
    receiver.start()
    stop_deciding, stop_sweeping = threading.Event(), threading.Event()
    decided = [0]

    def decide():
        rng = random.Random(1)
        while not stop_deciding.is_set():
            consent_record_create(
                user=rng.choice(people),
                policy=policy,
                choice=rng.choice([Choice.OPT_IN, Choice.OPT_OUT]),
                surface=Surface.SETTINGS,
                form_key=secrets.token_hex(16),
                shown_at=timezone.now(),
            )
            decided[0] += 1
            time.sleep(0.05)

    sweeping(stop_sweeping)
    decider = threading.Thread(target=decide, daemon=True)
    decider.start()
    time.sleep(5)
    receiver.stop()
    down_at = decided[0]
    print(f"  receiver down for {outage_seconds:g} s while decisions flow ...", flush=True)
    time.sleep(outage_seconds)
    during = decided[0] - down_at
    receiver.start()
    back = time.monotonic()
    time.sleep(5)
    stop_deciding.set()
    decider.join()
    drained = wait_drained(subscriber, timeout=max(120, outage_seconds))
    catch_up = time.monotonic() - back
    stop_sweeping.set()
    receiver.stop()
    from webhooks.models import Delivery

    retried = Delivery.objects.filter(subscriber=subscriber, attempts__gt=1).count()
    return (
        check(
            "outage",
            subscriber,
            receiver,
            extra=(
                f"; {decided[0]} decisions, {during} during the outage, {retried} retried, "
                f"all handled {catch_up:.1f} s after the receiver came back"
                + ("" if drained else " (NOT DRAINED)")
            ),
        )
        and drained
    )


def _emit_backlog(count: int, people: int, *, prefix: str) -> float:
    """``count`` committed events of ``people`` users, relayed into deliveries here, then
    ANALYZE, as autovacuum does shortly after a bulk load (without it the planner, taking
    the fresh rows for an empty table, probes the wrong index per head: 400 ms a batch
    instead of 1 ms). Returns the seconds the relay took."""
    from django.db import connection, transaction

    from webhooks.delivery import events_relay
    from webhooks.models import EventType
    from webhooks.services import EventDraft, events_record

    base = 10_000_000 * (1 + hash(prefix) % 50)
    for start in range(0, count, 1000):
        with transaction.atomic():
            events_record(
                drafts=[
                    EventDraft(
                        type=EventType.CONSENT_DECIDED,
                        user_id=base + n % people,
                        record_id=f"{prefix}-{n}",
                        data={"choice": "opt_out"},
                    )
                    for n in range(start, min(count, start + 1000))
                ]
            )
    started = time.monotonic()
    while events_relay():
        pass
    relay_seconds = time.monotonic() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE webhooks_event")
            cursor.execute("ANALYZE webhooks_delivery")
    return relay_seconds


def scenario_kill(workers: list[Worker]) -> bool:
    from webhooks.tasks import webhooks_dispatch

    for worker in workers:
        worker.stop()
    subscriber, receiver = subscriber_for("kill")
    receiver.start()
    _emit_backlog(20_000, 2000, prefix="kill")
    victim = Worker("kill-victim").start()
    webhooks_dispatch.delay()
    while receiver.log_lines() < 300:  # killed in the middle of its batches
        time.sleep(0.01)
    victim.kill()
    before = receiver.log_lines()
    print(f"  worker killed with SIGKILL after {before} deliveries", flush=True)
    survivor = Worker("kill-survivor").start()
    stop_sweeping = threading.Event()
    sweeping(stop_sweeping)
    drained = wait_drained(subscriber, timeout=180)
    stop_sweeping.set()
    survivor.stop()
    receiver.stop()
    workers[:] = [Worker("w1").start(), Worker("w2").start()]
    return (
        check("kill", subscriber, receiver, extra="" if drained else " (NOT DRAINED)") and drained
    )


def _raw_posts(args) -> tuple[int, float]:
    """Baseline: signed POSTs straight to the receiver, one keep-alive session; timed inside
    the process, so process start-up is not counted against it."""
    from datetime import UTC, datetime

    import requests
    from standardwebhooks import Webhook

    url, secret, count = args
    session = requests.Session()
    webhook = Webhook(secret)
    started = time.monotonic()
    for n in range(count):
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "type": "consent.decided",
                "timestamp": "2026-01-01T00:00:00Z",
                "data": {"event_id": event_id, "subject": "x", "sequence": n},
            },
            separators=(",", ":"),
            sort_keys=True,
        )
        now = datetime.now(UTC)
        headers = {
            "webhook-id": event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": webhook.sign(msg_id=event_id, timestamp=now, data=body),
            "Content-Type": "application/json",
        }
        session.post(
            url, data=body.encode(), headers=headers, timeout=(3, 5), allow_redirects=False
        )
    return count, time.monotonic() - started


def scenario_throughput(events: int, workers: list[Worker]) -> bool:
    from webhooks.tasks import webhooks_dispatch

    for worker in workers:
        worker.stop()
    subscriber, receiver = subscriber_for("throughput")
    receiver.start()
    relay_seconds = _emit_backlog(events, 2000, prefix="throughput")
    workers[:] = [Worker("t1").start(), Worker("t2").start()]
    started = time.monotonic()
    webhooks_dispatch.delay()
    webhooks_dispatch.delay()
    stop_sweeping = threading.Event()
    sweeping(stop_sweeping)
    drained = wait_drained(subscriber, timeout=600)
    elapsed = time.monotonic() - started
    stop_sweeping.set()
    rate = events / elapsed

    baseline_log = LOG_DIR / "received-baseline.jsonl"
    baseline_log.unlink(missing_ok=True)
    secret = receiver.secret
    baseline_receiver = Receiver(secret=secret, port=free_port(), log=baseline_log).start()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.map(
            _raw_posts, [(f"http://127.0.0.1:{baseline_receiver.port}/", secret, events // 2)] * 2
        )
    baseline = sum(count for count, _ in runs) / max(seconds for _, seconds in runs)
    baseline_receiver.stop()
    receiver.stop()
    ok = check("throughput", subscriber, receiver, extra="" if drained else " (NOT DRAINED)")
    verdict = "PASS" if ok and drained and rate >= 500 else "FAIL"
    print(
        f"{verdict} throughput: {events} events in {elapsed:.1f} s = {rate:.0f} events/s with 2 workers "
        f"(ordering, signing, recording included; the relay into deliveries took "
        f"{relay_seconds:.1f} s before); baseline raw signed POSTs from 2 "
        f"processes: {baseline:.0f}/s; ratio {rate / baseline:.2f}; target >= 500 events/s",
        flush=True,
    )
    return verdict == "PASS"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage-seconds", type=float, default=600)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--only", default="outage,kill,throughput")
    args = parser.parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.update(ENV)
    url = database_url("bench_webhooks")
    os.environ["DATABASE_URL"] = url
    recreate_database(url)
    subprocess.run(["redis-cli", "-n", "12", "flushdb"], check=True, capture_output=True)
    django_setup(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    workers = [Worker("w1").start(), Worker("w2").start()]
    results = []
    try:
        only = args.only.split(",")
        if "outage" in only:
            results.append(scenario_outage(args.outage_seconds, workers))
        if "kill" in only:
            results.append(scenario_kill(workers))
        if "throughput" in only:
            results.append(scenario_throughput(args.events, workers))
    finally:
        for worker in Worker.started:
            worker.stop()
        for receiver in Receiver.started:
            if receiver.process.poll() is None:
                receiver.process.kill()
    print(f"{sum(results)} of {len(results)} scenarios passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
