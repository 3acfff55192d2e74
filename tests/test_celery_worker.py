"""A real Celery worker process takes a task from the Redis broker (not eager mode)."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from consent.models import Lockout, Policy

BROKER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def redis_broker():
    if not _redis_available():
        if os.environ.get("REQUIRE_BROKER"):
            pytest.fail(f"Redis is required at {BROKER} (REQUIRE_BROKER is set)")
        pytest.skip(f"no Redis at {BROKER}")
    return BROKER


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(redis_broker, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_broker,
        "DEBUG": "false",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "-l",
            "INFO",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_worker_process_runs_the_lockout_task_through_redis(
    worker, redis_broker, django_user_model
):
    now = timezone.now()
    policy = Policy.objects.create(
        version="ci",
        title="Policy",
        summary="s",
        body="b",
        effective_at=now - timedelta(days=40),
        decision_deadline=now - timedelta(days=1),
    )
    user = django_user_model.objects.create_user(
        "undecided@example.com", "x-correct-horse", date_joined=now - timedelta(days=100)
    )
    sender = Celery(broker=redis_broker)

    sender.send_task("consent.tasks.record_lockouts", kwargs={"batch_size": 100}, queue=worker)

    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not Lockout.objects.filter(user=user, policy=policy).exists()
    ):
        time.sleep(0.5)
    assert Lockout.objects.filter(user=user, policy=policy).exists()
