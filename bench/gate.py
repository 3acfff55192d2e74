"""What the consent gate costs per request.

    python bench/gate.py [--seconds 8] [--rounds 3]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://root@127.0.0.1:5432/bench_gate)
and wrk. Serves the product page (the conversation list of a decided user with 20
conversations) with gunicorn, with the gate and without it, measured as bench/load.py's
first pair, and prints the median req/s of each and the median of the per-round ratios
(target >= 0.95). Also prints the database queries per request with and without the gate.
"""

import argparse
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import database_url, django_setup, ensure_database, median, session_cookie


def prepare() -> str:
    """Migrate, create a decided user with conversations, return a session cookie."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from consent.models import Choice, Policy, Surface
    from consent.services import consent_record_create
    from conversations.services import conversation_start

    call_command("migrate", verbosity=0)
    now = timezone.now()
    policy, _ = Policy.objects.get_or_create(
        version="bench",
        defaults={
            "title": "Bench policy",
            "summary": "s",
            "body": "b",
            "effective_at": now - timedelta(days=10),
            "decision_deadline": now - timedelta(days=1),
        },
    )
    User = get_user_model()
    user = User.objects.filter(email="bench@example.com").first()
    if user is None:
        user = User.objects.create_user(
            "bench@example.com", "bench-pass-1234", date_joined=now - timedelta(days=100)
        )
        consent_record_create(
            user=user,
            policy=policy,
            choice=Choice.OPT_IN,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=now,
        )
        for n in range(20):
            conversation_start(user=user, text=f"Benchmark conversation {n}")
    return session_cookie(user)


def queries_per_request(cookie: str) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from bench.settings import MIDDLEWARE

    name, value = cookie.split("=", 1)
    counts = {}
    for label, middleware in [
        ("gate on", MIDDLEWARE),
        ("gate off", [m for m in MIDDLEWARE if "ConsentGate" not in m]),
    ]:
        with override_settings(MIDDLEWARE=middleware):
            client = Client()
            client.cookies[name] = value
            client.get("/conversations/")  # warm
            with CaptureQueriesContext(connection) as ctx:
                assert client.get("/conversations/").status_code == 200
            counts[label] = len(ctx.captured_queries)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url = database_url("bench_gate")
    ensure_database(url)
    django_setup(url)
    cookie = prepare()
    counts = queries_per_request(cookie)

    from bench.load import measure_gate, paired_ratio  # the combined run's measurement

    on, off = measure_gate(
        url, cookie, seconds=args.seconds, rounds=args.rounds, workers=2, connections=8
    )
    print()
    print(
        f"queries per product-page request: gate on {counts['gate on']}, gate off {counts['gate off']} "
        f"(the gate adds {counts['gate on'] - counts['gate off']})"
    )
    print(f"product page, median req/s: gate on {median(on):.1f}, gate off {median(off):.1f}")
    print(f"ratio gate on / gate off: {paired_ratio(on, off):.3f}  (target >= 0.95; per round)")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    main()
