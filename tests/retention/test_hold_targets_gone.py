"""Holds placed or released on a conversation that is no longer there (a stale admin page)."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Conversation
from conversations.services import conversation_delete
from retention.models import Hold
from retention.services import hold_place, hold_release, retention_purge_run
from webhooks.models import Event, EventType

from .conftest import conversation_due_in, exists

pytestmark = pytest.mark.django_db


def test_hold_on_a_conversation_its_owner_just_deleted_is_refused(holder, caplog):
    conversation = conversation_due_in(timedelta(days=10))
    conversation_delete(conversation=conversation)  # unheld: gone at once

    with (
        caplog.at_level(logging.INFO, logger="retention.services"),
        pytest.raises(Conversation.DoesNotExist, match=rf"#{conversation.pk} was already deleted"),
    ):
        hold_place(reason="Case 2027-4", conversation=conversation, created_by=holder)

    assert not Hold.objects.exists()
    assert not Event.objects.filter(type=EventType.HOLD_PLACED).exists()
    assert "retention hold placed" not in caplog.text


def test_releasing_a_lapsed_hold_after_the_purge_took_its_conversation_is_refused(holder, caplog):
    conversation = conversation_due_in(-timedelta(days=1))
    hold = hold_place(
        reason="Case 2027-5",
        conversation=conversation,
        until=timezone.now() + timedelta(days=1),
        created_by=holder,
    )

    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        retention_purge_run()
        assert not exists(conversation)
        assert not Hold.objects.exists()  # the spent hold went with it

        with (
            caplog.at_level(logging.INFO, logger="retention.services"),
            pytest.raises(Hold.DoesNotExist, match=rf"Hold #{hold.pk} was deleted"),
        ):
            hold_release(hold=hold, released_by=holder)

    assert not Event.objects.filter(type=EventType.HOLD_RELEASED).exists()
    assert "retention hold released" not in caplog.text
