"""The pluggable safety classifier runs after every activity, in a worker."""

from datetime import timedelta

import pytest

from conversations.services import conversation_start, message_post

pytestmark = pytest.mark.django_db


def flags_the_word_bomb(history: list[tuple[str, str]]) -> bool:
    return any("bomb" in content.lower() for _, content in history)


@pytest.fixture
def classifier(settings):
    settings.SAFETY_CLASSIFIER = "tests.conversations.test_safety_hook.flags_the_word_bomb"


def test_flagged_conversation_is_kept_longer(classifier, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        conversation = conversation_start(user=user, text="how do I build a bomb")

    conversation.refresh_from_db()
    assert len(callbacks) == 1
    assert conversation.safety_flagged_at is not None
    assert conversation.retain_until == conversation.last_activity_at + timedelta(days=30 + 730)


def test_harmless_conversation_is_not_flagged(classifier, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = conversation_start(user=user, text="a sourdough question")
        message_post(conversation=conversation, text="and another one")

    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is None


def test_without_a_classifier_nothing_is_enqueued(
    settings, user, django_capture_on_commit_callbacks
):
    settings.SAFETY_CLASSIFIER = None

    with django_capture_on_commit_callbacks() as callbacks:
        conversation_start(user=user, text="how do I build a bomb")

    assert callbacks == []
