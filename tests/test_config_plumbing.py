"""Shared plumbing in config/: enqueueing a draining task after many commits
(broker.CoalescedEnqueue), the insert whose commit does not wait for the disk
(durability), and the append-only triggers' refusal of a database they cannot protect."""

import pytest
from celery import shared_task
from django.db import connection, transaction

from config.broker import CoalescedEnqueue
from config.durability import insert_without_disk_wait


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


def shown_copy(digest: str):
    """An unsaved row with every field set, its key included, as the function expects."""
    from django.utils import timezone

    from consent.models import ShownCopy

    return ShownCopy(digest=digest, html="<p>shown</p>", created_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_the_row_is_committed_and_the_setting_ends_with_it():
    from consent.models import ShownCopy

    insert_without_disk_wait(shown_copy("a" * 64))

    assert ShownCopy.objects.get(digest="a" * 64).html == "<p>shown</p>"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            # The statement's own transaction only (set_config is_local): later ones wait.
            assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_row_commits_or_rolls_back_with_it():
    from consent.models import ShownCopy

    with transaction.atomic():
        insert_without_disk_wait(shown_copy("b" * 64))
        assert ShownCopy.objects.filter(digest="b" * 64).exists()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone()[0] == "on"  # the caller's commit still waits
        transaction.set_rollback(True)

    assert not ShownCopy.objects.filter(digest="b" * 64).exists()


def test_append_only_tables_refuse_a_database_they_cannot_protect():
    from django.core.exceptions import ImproperlyConfigured

    from config.append_only import trigger_statements

    with pytest.raises(ImproperlyConfigured, match="need PostgreSQL or SQLite"):
        trigger_statements("mysql", "consent_consentrecord")
