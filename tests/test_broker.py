"""config.broker: enqueueing a draining task after many commits (CoalescedEnqueue), and
config.durability's transaction that does not wait for the disk."""

import pytest
from celery import shared_task
from django.db import connection, transaction

from config.broker import CoalescedEnqueue
from config.durability import commit_without_disk_wait


@shared_task
def drain() -> None:
    """A stand-in for webhooks_dispatch."""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """Every enqueue of ``drain`` with its options, instead of a broker."""
    calls: list[dict] = []
    monkeypatch.setattr(drain, "apply_async", lambda args=(), kwargs=None, **o: calls.append(o))
    return calls


def coalescer(window: float) -> tuple[CoalescedEnqueue, Clock]:
    requests = CoalescedEnqueue(lambda: drain, window=lambda: window)
    requests.clock = clock = Clock()
    return requests, clock


def test_the_first_request_in_a_window_enqueues_at_once(sent):
    requests, _ = coalescer(1.0)

    assert requests.request() is True
    assert sent == [{}]


def test_later_requests_in_the_window_share_one_run_at_its_end(sent):
    requests, clock = coalescer(1.0)
    requests.request()

    for step in (0.1, 0.2, 0.3):  # three more commits within the same second
        clock.now += step
        assert requests.request() is True

    # One at once, then one run for the window's end: it starts after every commit above.
    assert sent == [{}, {"countdown": pytest.approx(0.9)}]


def test_a_request_after_the_window_enqueues_at_once_again(sent):
    requests, clock = coalescer(1.0)
    requests.request()
    clock.now += 0.5
    requests.request()
    clock.now += 0.5  # the trailing run's time has come: the next commit needs its own run

    requests.request()
    clock.now += 0.2
    requests.request()

    assert sent == [{}, {"countdown": pytest.approx(0.5)}, {}, {"countdown": pytest.approx(0.8)}]


def test_no_window_enqueues_after_every_request(sent):
    requests, _ = coalescer(0)

    for _ in range(3):
        requests.request()

    assert sent == [{}, {}, {}]


def test_a_refused_enqueue_is_reported(monkeypatch):
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("broker down")

    monkeypatch.setattr(drain, "apply_async", refuse)
    requests, clock = coalescer(1.0)

    assert requests.request() is False
    clock.now += 0.1
    assert requests.request() is False  # the window's trailing run was refused too


# --- config.durability ---------------------------------------------------------------------


def synchronous_commit() -> str | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_its_own_transaction_commits_without_waiting_for_the_disk_on_postgresql():
    from accounts.models import User

    before = synchronous_commit()
    with commit_without_disk_wait():
        inside = synchronous_commit()
        User.objects.create_user("durability@example.com", "a-long-password-1")

    assert User.objects.filter(email="durability@example.com").exists()  # committed
    if connection.vendor == "postgresql":
        assert (before, inside, synchronous_commit()) == ("on", "off", "on")  # SET LOCAL only
    else:
        assert inside is None


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_it_changes_nothing():
    from accounts.models import User

    with transaction.atomic():
        with commit_without_disk_wait():
            inside = synchronous_commit()
            User.objects.create_user("joined@example.com", "a-long-password-1")
        transaction.set_rollback(True)  # the caller's transaction decides: rolled back

    assert not User.objects.filter(email="joined@example.com").exists()
    assert inside in (None, "on")
