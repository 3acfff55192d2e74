"""Load test: what the consent machinery costs against baselines measured in the same run.

    python bench/load.py [--seconds 8] [--rounds 5] [--connections 8] [--only gate popup posts log]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/bench_load;
the database is dropped and recreated) and wrk. gunicorn serves bench.settings (DEBUG off,
persistent connections) on 127.0.0.1; in each of ``--rounds`` rounds the sides of a pair
take turns in 2-second slices (``take_turns``), and the ratio is the median over rounds of each
round's ratio (``paired_ratio``; the medians' ratio is printed too):

1. product page (a decided user's conversation list), consent gate on vs off  (>= 0.95)
2. the consent pop-up (GET /consent/decide/, an undecided new user) vs /bench/minimal/,
   the same layout with one paragraph, for the same signed-in user               (>= 0.80)
3. decision POSTs vs /bench/insert/, a signed-in POST that inserts one row        (>= 0.50)
   Every decision POST carries its own user's session and a freshly issued one-time
   form (bench/post_pool.lua); the insert POSTs use the same sessions.
4. decision POSTs with the evidence-log append on vs off (a second gunicorn with
   BENCH_EVIDENCE_LOG=off; bench/settings.py alone may turn it off), and one-row inserts:
   the on side against the insert must stay >= 0.50.

After the POST load every submitted form is replayed once, as a retrying client would,
and the run checks that each submitted decision is recorded exactly once, that nothing
else was recorded, and that every consent chain verifies.
"""

import argparse
import os
import secrets
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import gate
from bench._common import (
    ROOT,
    Server,
    database_url,
    django_setup,
    median,
    recreate_database,
    session_cookie,
    wrk,
    wrk_run,
)

PORT = 8191
BASE = f"http://127.0.0.1:{PORT}"
POOL_SCRIPT = str(ROOT / "bench" / "post_pool.lua")
CSRF_SECRET = "benchcsrfsecret0123456789abcdefX"  # 32 characters, as Django expects
THREADS = 2


def undecided_user_cookie() -> str:
    """The cookies of a browser that signed in: its session and the CSRF cookie the login
    form set (without it every page with a form would mint a new one, as on a first visit)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("undecided@bench.example", "bench-pass-1234")
    return f"{session_cookie(user)}; csrftoken={CSRF_SECRET}"


class Pool:
    """Undecided new users, each signed in with a session and holding one fresh decision form."""

    def __init__(self, label: str, size: int):
        from django.conf import settings
        from django.contrib.auth import (
            BACKEND_SESSION_KEY,
            HASH_SESSION_KEY,
            SESSION_KEY,
            get_user_model,
        )
        from django.contrib.auth.hashers import make_password
        from django.contrib.sessions.backends.db import SessionStore
        from django.contrib.sessions.models import Session
        from django.utils import timezone
        from django.utils.crypto import get_random_string

        from consent.models import Surface
        from consent.selectors import current_policy
        from consent.services import decision_form_issue
        from experiments.services import choose_variant

        User = get_user_model()
        password = make_password(secrets.token_hex(8))
        now = timezone.now()
        users = User.objects.bulk_create(
            [
                User(email=f"{label}-{n}@bench.example", password=password, date_joined=now)
                for n in range(size)
            ]
        )
        policy = current_policy()
        variant = choose_variant(users[0], Surface.FIRST_LOGIN).variant
        sessions, self.lines, self.user_ids = [], [], []
        for n, user in enumerate(users):
            key = get_random_string(32)
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "consent.backends.ConsentStandingBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            sessions.append(
                Session(
                    session_key=key,
                    session_data=SessionStore().encode(data),
                    expire_date=now + timedelta(days=1),
                )
            )
            form = decision_form_issue(
                user=user, policy=policy, surface=Surface.FIRST_LOGIN, variant=variant
            )
            body = urlencode(
                {"form_token": form.token(), "decision": "opt_in" if n % 2 else "opt_out"}
            )
            self.lines.append(f"{settings.SESSION_COOKIE_NAME}={key}\t{body}")
            self.user_ids.append(user.pk)
        Session.objects.bulk_create(sessions)
        self.file = Path(tempfile.mkstemp(prefix=f"bench-{label}-", suffix=".pool")[1])
        self.file.write_text("\n".join(self.lines) + "\n")
        self.sent: list[int] = []  # indices of the entries submitted so far
        self.next = 0  # the first entry no wrk run has been given yet

    def post(
        self,
        path: str,
        *,
        seconds: int,
        connections: int,
        body_override: str | None = None,
        base: str = BASE,
    ) -> float:
        """wrk over the pool's entries not yet sent (all of them, cycling, with
        ``body_override``); returns req/s. The entries sent are added to ``self.sent``."""
        if body_override is not None:
            source = self.file.with_suffix(".insert")
            if not source.exists():
                source.write_text(
                    "".join(f"{line.split(chr(9))[0]}\t{body_override}\n" for line in self.lines)
                )
            first = 0
        else:
            source = self.file.with_suffix(f".from{self.next}")
            source.write_text("".join(f"{line}\n" for line in self.lines[self.next :]))
            first = self.next
        rps, out = wrk_run(
            f"{base}{path}",
            seconds=seconds,
            connections=connections,
            threads=THREADS,
            script=POOL_SCRIPT,
            script_args=(
                str(source),
                str(THREADS),
                path,
                CSRF_SECRET,
                "cycle" if body_override else "once",
            ),
        )
        if body_override is not None:
            return rps
        for line in out.splitlines():
            if line.startswith("POOL "):
                fields = dict(part.split("=") for part in line.split()[1:])
                if int(fields["exhausted"]):
                    raise RuntimeError(
                        f"the pool of {len(self.lines)} ran out; rerun with a larger --pool"
                    )
                thread = int(fields["thread"])
                sent = [first + thread + k * THREADS for k in range(int(fields["sent"]))]
                self.sent += sent
        # Entries a thread skipped past another's last one stay unsent.
        self.next = max(self.sent, default=first - 1) + 1
        source.unlink()
        return rps

    def replay(self, indices: list[int]) -> int:
        """Submit the given entries again, one by one; returns how many got a non-3xx answer."""
        failures = 0
        opener = urllib.request.build_opener(NoRedirect)
        for index in indices:
            cookie, body = self.lines[index].split("\t")
            request = urllib.request.Request(
                f"{BASE}/consent/decide/",
                data=body.encode(),
                headers={
                    "Cookie": f"{cookie}; csrftoken={CSRF_SECRET}",
                    "X-CSRFToken": CSRF_SECRET,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            try:
                status = opener.open(request, timeout=30).status
            except urllib.error.HTTPError as error:
                status = error.code
            failures += not 300 <= status < 400
        return failures


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


SLICE_SECONDS = 2


def take_turns(
    runs: dict[str, Callable[[int], float]], *, seconds: int, round_number: int
) -> dict[str, float]:
    """One round: each side's mean req/s, the sides taking turns in 2-second slices.

    This machine's speed drifts by 10-20% over tens of seconds (a shared VM), which
    whole 8-second turns turned into noise in the ratio; slices in rotating order (A B,
    B A, ... or A B C, B C A, ...) give every side the same share of every drift.
    ``runs[side](seconds)`` loads one side for that long and returns its req/s.
    """
    sides = list(runs)
    totals = dict.fromkeys(sides, 0.0)
    slices = max(1, seconds // SLICE_SECONDS)
    for n in range(slices):
        k = (n + round_number) % len(sides)
        for side in sides[k:] + sides[:k]:
            totals[side] += runs[side](SLICE_SECONDS)
    means = {side: totals[side] / slices for side in sides}
    line = ", ".join(f"{side} {means[side]:8.1f} req/s" for side in sides)
    print(f"  round {round_number}: {line}", flush=True)
    return means


def alternate(
    urls: dict[str, str],
    *,
    cookie: str,
    seconds: int,
    rounds: int,
    connections: int,
    first_round: int = 1,
) -> dict[str, list[float]]:
    """GET req/s per side and round (``take_turns``), after a warm-up of each side."""
    for url in urls.values():
        wrk(url, seconds=2, cookie=cookie, connections=connections)
    runs = {
        side: partial(wrk, url, cookie=cookie, connections=connections)
        for side, url in urls.items()
    }
    results: dict[str, list[float]] = {side: [] for side in urls}
    for round_number in range(first_round, first_round + rounds):
        for side, value in take_turns(
            {side: lambda s, run=run: run(seconds=s) for side, run in runs.items()},
            seconds=seconds,
            round_number=round_number,
        ).items():
            results[side].append(value)
    return results


def measure_gate(
    url: str, cookie: str, *, seconds: int, rounds: int, workers: int, connections: int
) -> tuple[float, float]:
    """Each side has its own gunicorn, both started afresh for every round, on swapped ports
    and in swapped order.

    Two identically configured gunicorns measured this way differ by up to 4% (an A/A
    run), apparently from where their processes land; new processes every round spread
    that over both sides instead of handing it to one.
    """
    results: dict[str, list[float]] = {"gate on": [], "gate off": []}
    for round_number in range(1, rounds + 1):
        ports = [PORT, PORT + 1] if round_number % 2 else [PORT + 1, PORT]
        servers = [
            Server(port=port, env={"DATABASE_URL": url, "BENCH_GATE": side}, workers=workers)
            for port, side in zip(ports, ["on", "off"], strict=True)
        ]
        first, second = servers if round_number % 2 else servers[::-1]  # who starts first, too
        with first, second:
            measured = alternate(
                {
                    "gate on": f"http://127.0.0.1:{ports[0]}/conversations/",
                    "gate off": f"http://127.0.0.1:{ports[1]}/conversations/",
                },
                cookie=cookie,
                seconds=seconds,
                rounds=1,
                connections=connections,
                first_round=round_number,
            )
        for side, values in measured.items():
            results[side] += values
    return results["gate on"], results["gate off"]


def measure_popup(
    cookie: str, *, seconds: int, rounds: int, connections: int
) -> tuple[list[float], list[float]]:
    results = alternate(
        {"pop-up": f"{BASE}/consent/decide/", "minimal": f"{BASE}/bench/minimal/"},
        cookie=cookie,
        seconds=seconds,
        rounds=rounds,
        connections=connections,
    )
    return results["pop-up"], results["minimal"]


def measure_posts(url: str, *, seconds: int, rounds: int, connections: int, pool_size: int | None):
    """Decision POSTs vs one-row inserts; returns each side's req/s per round and every
    (pool, sent indices)."""
    from django.db import connection

    from bench.views import BENCH_ROW_DDL

    with connection.cursor() as cursor:
        cursor.execute(BENCH_ROW_DDL)
    insert_pool = Pool("insert", 200)
    insert_pool.post(
        "/bench/insert/", seconds=2, connections=connections, body_override="note=warm"
    )
    if pool_size is None:
        calibration = insert_pool.post(
            "/bench/insert/", seconds=2, connections=connections, body_override="note=calibrate"
        )
        pool_size = int(calibration * seconds * 1.5) + 500
    print(f"  {pool_size} undecided users with sessions and forms per round", flush=True)
    results = {"decision": [], "insert": []}
    submitted = []
    for round_number in range(1, rounds + 1):
        pool = Pool(f"round{round_number}", pool_size)
        means = take_turns(
            {
                "decision": lambda s, pool=pool: pool.post(
                    "/consent/decide/", seconds=s, connections=connections
                ),
                "insert": lambda s: insert_pool.post(
                    "/bench/insert/", seconds=s, connections=connections, body_override="note=x"
                ),
            },
            seconds=seconds,
            round_number=round_number,
        )
        submitted.append((pool, pool.sent))
        for side, value in means.items():
            results[side].append(value)
    return results["decision"], results["insert"], submitted


def measure_log_append(
    url: str, *, seconds: int, rounds: int, connections: int, workers: int, pool_size: int | None
):
    """Decision POSTs with the evidence-log append on (the product) vs off (a second gunicorn
    with BENCH_EVIDENCE_LOG=off), and one-row inserts, whole turns in rotating order.

    Returns each side's req/s per round (on, off, insert) and every (pool, sent indices)."""
    from django.db import connection

    from bench.views import BENCH_ROW_DDL

    with connection.cursor() as cursor:
        cursor.execute(BENCH_ROW_DDL)
    insert_pool = Pool("log-insert", 200)
    insert_pool.post("/bench/insert/", seconds=2, connections=connections, body_override="note=w")
    if pool_size is None:
        calibration = insert_pool.post(
            "/bench/insert/", seconds=2, connections=connections, body_override="note=c"
        )
        pool_size = int(calibration * seconds * 1.5) + 500
    print(f"  {pool_size} undecided users with sessions and forms per side and round", flush=True)
    # Both decision sides on gunicorns of their own, started together (the main server has
    # served the other pairs: a long-running server against a fresh one is not a fair pair).
    bases = {"log on": f"http://127.0.0.1:{PORT + 2}", "log off": f"http://127.0.0.1:{PORT + 1}"}
    env = {"DATABASE_URL": url, "BENCH_GATE": "on"}
    results = {"log on": [], "log off": [], "insert": []}
    submitted = []
    with (
        Server(port=PORT + 1, env={**env, "BENCH_EVIDENCE_LOG": "off"}, workers=workers),
        Server(port=PORT + 2, env={**env, "BENCH_EVIDENCE_LOG": "on"}, workers=workers),
    ):
        warm = Pool("log-warm", 300)
        for base in bases.values():
            warm.post(
                "/bench/insert/",
                seconds=2,
                connections=connections,
                body_override="note=w",
                base=base,
            )
        for round_number in range(1, rounds + 1):
            pools = {
                side: Pool(f"log{round_number}-{side.split()[1]}", pool_size)
                for side in ("log on", "log off")
            }
            means = take_turns(
                {
                    **{
                        side: lambda s, pool=pool, base=bases[side]: pool.post(
                            "/consent/decide/", seconds=s, connections=connections, base=base
                        )
                        for side, pool in pools.items()
                    },
                    "insert": lambda s: insert_pool.post(
                        "/bench/insert/", seconds=s, connections=connections, body_override="note=x"
                    ),
                },
                seconds=seconds,
                round_number=round_number,
            )
            submitted += [(pool, pool.sent) for pool in pools.values()]
            for side, value in means.items():
                results[side].append(value)
    return results["log on"], results["log off"], results["insert"], submitted


def verify_decisions(submitted) -> list[str]:
    """Replay every submitted form, then check records and chains; returns the problems."""
    from django.db.models import Count

    from consent.models import ConsentRecord
    from consent.services import consent_chains_verify

    problems = []
    for pool, sent in submitted:
        failures = pool.replay(sent)
        if failures:
            problems.append(f"{failures} replayed decisions did not get the same redirect")
        sent_users = {pool.user_ids[i] for i in sent}
        per_user = dict(
            ConsentRecord.objects.filter(user_id__in=pool.user_ids)
            .values_list("user_id")
            .annotate(n=Count("pk"))
        )
        not_once = [uid for uid in sent_users if per_user.get(uid) != 1]
        unsent = set(per_user) - sent_users
        if not_once:
            problems.append(f"{len(not_once)} submitted decisions not recorded exactly once")
        if unsent:
            problems.append(f"{len(unsent)} decisions recorded that were never submitted")
        print(
            f"  {len(sent)} decisions submitted under load and replayed: "
            f"{sum(1 for uid in sent_users if per_user.get(uid) == 1)} recorded exactly once",
            flush=True,
        )
    breaks = list(consent_chains_verify())
    if breaks:
        problems.append(f"{len(breaks)} consent chains do not verify: {breaks[:3]}")
    print(
        f"  consent chains verified: {ConsentRecord.objects.values('user_id').distinct().count()} users, "
        f"{len(breaks)} breaks",
        flush=True,
    )
    return problems


def paired_ratio(values: list[float], baseline: list[float]) -> float:
    """The median over rounds of each round's ratio.

    Within a round the two sides take turns in short slices and share the machine's
    drift; between rounds it differs by 10-20%. So each round's ratio is one fair
    measurement, and a ratio of medians taken from different rounds is not.
    """
    return median([value / base for value, base in zip(values, baseline, strict=True)])


def ratio_line(
    name: str,
    side: tuple[str, list[float]],
    baseline: tuple[str, list[float]],
    target: float | None,
) -> str:
    """One result line: each side's median req/s, then the median of the per-round ratios
    (what the target applies to), their range, and the ratio of the medians."""
    (side_label, values), (base_label, base) = side, baseline
    per_round = [value / other for value, other in zip(values, base, strict=True)]
    side_text = f"{side_label} {median(values):8.1f}" if side_label else f"{median(values):8.1f}"
    goal = f"target >= {target:.2f}" if target is not None else "reported"
    return (
        f"{name} {side_text} req/s, {base_label} {median(base):8.1f} req/s: "
        f"ratio {paired_ratio(values, base):.3f}  ({goal}; rounds "
        f"{min(per_round):.3f}-{max(per_round):.3f}, medians' ratio "
        f"{median(values) / median(base):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gunicorn sync workers (default 2, one per core here; 4 measured lower on both sides)",
    )
    parser.add_argument(
        "--pool", type=int, default=None, help="users per decision round (default: calibrated)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["gate", "popup", "posts", "log"],
        default=["gate", "popup", "posts", "log"],
        help="measure only these pairs (default: all four)",
    )
    args = parser.parse_args()

    url = database_url("bench_load")
    recreate_database(url)
    django_setup(url)
    product_cookie = gate.prepare()  # migrates; a decided user with 20 conversations
    lines, problems, submitted = [], [], []

    if "gate" in args.only:
        queries = gate.queries_per_request(product_cookie)
        print("1. product page, consent gate on vs off", flush=True)
        on, off = measure_gate(
            url,
            product_cookie,
            seconds=args.seconds,
            rounds=args.rounds,
            workers=args.workers,
            connections=args.connections,
        )
        lines.append(
            f"queries per product-page request: gate on {queries['gate on']}, "
            f"gate off {queries['gate off']}"
        )
        lines.append(ratio_line("product page  ", ("gate on", on), ("gate off", off), 0.95))

    with Server(port=PORT, env={"DATABASE_URL": url, "BENCH_GATE": "on"}, workers=args.workers):
        if "popup" in args.only:
            print("2. consent pop-up vs minimal page", flush=True)
            popup, minimal = measure_popup(
                undecided_user_cookie(),
                seconds=args.seconds,
                rounds=args.rounds,
                connections=args.connections,
            )
            lines.append(ratio_line("consent pop-up", ("", popup), ("minimal page", minimal), 0.80))
        if "posts" in args.only:
            print("3. decision POSTs vs one-row insert POSTs", flush=True)
            decision, insert, submitted = measure_posts(
                url,
                seconds=args.seconds,
                rounds=args.rounds,
                connections=args.connections,
                pool_size=args.pool,
            )
            lines.append(
                ratio_line("decision POST ", ("", decision), ("one-row insert", insert), 0.50)
            )
        if "log" in args.only:
            print(
                "4. decision POSTs, evidence-log append on vs off, and one-row inserts", flush=True
            )
            on, off, insert, log_submitted = measure_log_append(
                url,
                seconds=args.seconds,
                rounds=args.rounds,
                connections=args.connections,
                workers=args.workers,
                pool_size=args.pool,
            )
            submitted += log_submitted
            lines.append(ratio_line("log append    ", ("on", on), ("off", off), None))
            lines.append(ratio_line("decision, log ", ("on", on), ("one-row insert", insert), 0.50))
            lines.append(
                ratio_line("decision, log ", ("off", off), ("one-row insert", insert), 0.50)
            )
        if submitted:
            print("5. every submitted decision, replayed and checked", flush=True)
            problems = verify_decisions(submitted)
            lines.append(
                "decisions: "
                + (
                    "PASS every submitted decision recorded exactly once; every chain verifies"
                    if not problems
                    else "FAIL " + "; ".join(problems)
                )
            )

    print()
    print("\n".join(lines))
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    main()
