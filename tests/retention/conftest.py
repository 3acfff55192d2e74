import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from consent.models import Choice, Surface
from consent.services import consent_record_create
from conversations.models import Conversation
from tests.consent.factories import PolicyFactory
from tests.factories import ConversationFactory, MessageFactory, UserFactory

T = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def postgres_only(db):
    """PostgreSQL-only tests skip, with the reason, on other databases."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: advisory locks and concurrent connections")


@pytest.fixture
def policy(db):
    return PolicyFactory()


@pytest.fixture
def holder(db):
    """A staff member who places holds."""
    return UserFactory(email="legal@example.com", is_staff=True)


def decide(user, policy, choice: str):
    """Record a decision the way the settings page does."""
    return consent_record_create(
        user=user,
        policy=policy,
        choice=choice,
        surface=Surface.SETTINGS,
        form_key=uuid.uuid4().hex,
        shown_at=timezone.now(),
    )


def opt_in(user, policy):
    return decide(user, policy, Choice.OPT_IN)


def opt_out(user, policy):
    return decide(user, policy, Choice.OPT_OUT)


def conversation_due_in(
    delta: timedelta, *, now: datetime | None = None, messages: int = 2, **kwargs
):
    """A conversation whose retain_until is ``now + delta``, with some messages."""
    now = now or timezone.now()
    conversation = ConversationFactory(
        created_at=now - timedelta(days=40),
        last_activity_at=now - timedelta(days=40),
        retain_until=now + delta,
        **kwargs,
    )
    for _ in range(messages):
        MessageFactory(conversation=conversation)
    return conversation


def exists(conversation: Conversation) -> bool:
    return Conversation.objects.filter(pk=conversation.pk).exists()
