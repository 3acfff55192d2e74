"""A legal hold outranks the owner's delete: hidden at once, kept until the hold ends."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import conversation_delete, conversation_start
from retention.services import hold_place, hold_release, retention_purge_run

pytestmark = pytest.mark.django_db


def test_deleting_a_held_conversation_hides_it_but_keeps_it(user, client_logged_in):
    conversation = conversation_start(user=user, text="evidence")
    hold_place(reason="Litigation 2026-17", conversation=conversation)

    response = client_logged_in.post(reverse("conversations:delete", args=[conversation.pk]))

    assert response.status_code == 303
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert Message.objects.filter(conversation_id=conversation.pk).count() == 2
    assert (
        client_logged_in.get(reverse("conversations:detail", args=[conversation.pk])).status_code
        == 404
    )
    assert (
        conversation.title.encode()
        not in client_logged_in.get(reverse("conversations:list")).content
    )


def test_held_and_deleted_conversation_is_purged_once_the_hold_ends(user):
    conversation = conversation_start(user=user, text="evidence")
    hold = hold_place(reason="Litigation", user=user)
    conversation_delete(conversation=conversation)

    retention_purge_run(now=timezone.now() + timedelta(minutes=1))
    assert Conversation.objects.filter(pk=conversation.pk).exists()

    hold_release(hold=hold)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        retention_purge_run()

    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


def test_held_and_deleted_conversation_never_reaches_training(user, policy):
    import secrets

    from consent.models import Choice, Surface
    from consent.services import consent_record_create
    from training.selectors import eligible_conversations

    consent_record_create(
        user=user,
        policy=policy,
        choice=Choice.OPT_IN,
        surface=Surface.SETTINGS,
        form_key=secrets.token_hex(16),
        shown_at=timezone.now(),
    )
    conversation = conversation_start(user=user, text="covered")
    assert eligible_conversations(now=timezone.now()).filter(pk=conversation.pk).exists()
    hold_place(reason="Litigation", conversation=conversation)

    conversation_delete(conversation=conversation)

    assert not eligible_conversations(now=timezone.now()).filter(pk=conversation.pk).exists()


def test_unheld_conversation_is_deleted_at_once(user):
    conversation = conversation_start(user=user, text="bye")

    conversation_delete(conversation=conversation)

    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


@pytest.fixture
def policy(db):
    from tests.consent.factories import PolicyFactory

    return PolicyFactory()
