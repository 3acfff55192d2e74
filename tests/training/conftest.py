"""Fixtures for the training app: a policy, a frozen clock, decisions, chats, exports."""

from datetime import timedelta
from itertools import count

import pytest
import time_machine
from django.utils import timezone

from consent.models import Choice
from conversations.services import conversation_start, message_post
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory, settings_decision
from training.services import training_snapshot_export


@pytest.fixture
def clock():
    """Frozen time that moves only when told: a second passes between steps in the tests,
    so every decision and activity has its own instant (the coverage rule compares them).
    It starts at the real time, so sessions opened before it stay valid."""
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db, clock):
    return PolicyFactory(effective_at=timezone.now() - timedelta(days=10))


@pytest.fixture
def person(db, clock):
    def make(**fields):
        return UserFactory(**fields)

    return make


@pytest.fixture
def decide(policy, clock):
    """Record a decision through the consent service, one second after the last step."""

    def record(user, choice: str):
        clock.shift(timedelta(seconds=1))
        return settings_decision(user, policy, choice)

    record.opt_in = lambda user: record(user, Choice.OPT_IN)
    record.opt_out = lambda user: record(user, Choice.OPT_OUT)
    return record


@pytest.fixture
def chat(clock):
    """Start a conversation (or post to one given as ``reopen``), a second after the last step."""

    def post(user=None, text: str = "How do I bake bread?", *, reopen=None):
        clock.shift(timedelta(seconds=1))
        if reopen is not None:
            message_post(conversation=reopen, text=text)
            reopen.refresh_from_db()
            return reopen
        return conversation_start(user=user, text=text)

    return post


@pytest.fixture
def export(tmp_path, clock):
    """Run an export into a fresh file under tmp_path."""
    numbers = count(1)

    def run(**kwargs):
        clock.shift(timedelta(seconds=1))
        kwargs.setdefault("out_path", tmp_path / f"snapshot-{next(numbers)}.jsonl")
        return training_snapshot_export(**kwargs)

    return run


def exported_ids(snapshot) -> set[int]:
    return set(snapshot.uses.values_list("conversation_id", flat=True))


@pytest.fixture
def export_storage_dir(settings, tmp_path):
    """The export storage (TRAINING_EXPORT_STORAGE) as a fresh directory under tmp_path."""
    directory = tmp_path / "exports"
    settings.STORAGES = {
        **settings.STORAGES,
        "training_exports_test": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(directory)},
        },
    }
    settings.TRAINING_EXPORT_STORAGE = "training_exports_test"
    return directory


@pytest.fixture
def six_chats(person, decide, chat):
    """Two opted-in people, six conversations: three shards of two."""
    people = [person(), person()]
    for someone in people:
        decide.opt_in(someone)
    return [chat(people[n % 2]) for n in range(6)]
