"""Fixtures for the consent API: a frozen clock, a policy, decisions, chats, service tokens."""

import secrets
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from api.services import service_token_issue
from consent.models import Choice, Surface
from consent.services import consent_record_create
from conversations.services import conversation_start, message_post
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the (test: local-memory) cache, keyed by token id;
    SQLite reuses ids after a rollback, so each test starts with empty counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    """Frozen time that moves only when told (decisions and activity each get an instant)."""
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db, clock):
    return PolicyFactory(effective_at=timezone.now() - timedelta(days=10))


@pytest.fixture
def person(db, clock):
    """A user who joined before the policy (an existing user: the deferrable notice)."""

    def make(**fields):
        fields.setdefault("date_joined", timezone.now() - timedelta(days=400))
        return UserFactory(**fields)

    return make


@pytest.fixture
def decide(policy, clock):
    def record(user, choice: str, *, under=None):
        clock.shift(timedelta(seconds=1))
        return consent_record_create(
            user=user,
            policy=under or policy,
            choice=choice,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=timezone.now(),
        )

    record.opt_in = lambda user, **kw: record(user, Choice.OPT_IN, **kw)
    record.opt_out = lambda user, **kw: record(user, Choice.OPT_OUT, **kw)
    return record


@pytest.fixture
def chat(clock):
    def post(user=None, *, reopen=None):
        clock.shift(timedelta(seconds=1))
        if reopen is not None:
            message_post(conversation=reopen, text="One more question.")
            reopen.refresh_from_db()
            return reopen
        return conversation_start(user=user, text="How do I bake bread?")

    return post


@pytest.fixture
def issued(db, clock):
    return service_token_issue(name="trainer")


@pytest.fixture
def api(issued) -> Client:
    """A client that sends the service token and nothing else (no session)."""
    return Client(headers={"Authorization": f"Bearer {issued.secret}"})


@pytest.fixture
def anonymous_api() -> Client:
    return Client()
