"""Fixtures for the chat: a frozen clock, a policy, decisions through the consent service."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from consent.models import Choice
from tests.consent.factories import PolicyFactory
from tests.factories import settings_decision


@pytest.fixture
def clock():
    """Frozen time that moves only when told; it starts at the real time (to the second),
    so sessions opened before it stay valid."""
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db, clock):
    return PolicyFactory(
        effective_at=timezone.now() - timedelta(days=10),
        opt_in_retention=timedelta(days=1825),
        opt_out_retention=timedelta(days=30),
    )


@pytest.fixture
def decide(policy, clock):
    """Record a decision through the consent service, one second after the last step."""

    def record(user, choice: str):
        clock.shift(timedelta(seconds=1))
        return settings_decision(user, policy, choice)

    record.opt_in = lambda user: record(user, Choice.OPT_IN)
    record.opt_out = lambda user: record(user, Choice.OPT_OUT)
    return record
