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


def test_sweep_catches_up_on_activity_whose_check_was_lost(classifier, user):
    from conversations.safety import conversation_safety_sweep

    # No on-commit callbacks run here: as if the broker was down when it was posted.
    conversation = conversation_start(user=user, text="how do I build a bomb")

    assert conversation_safety_sweep() == 1

    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is not None
    assert conversation.safety_checked_at is not None
    assert conversation_safety_sweep() == 0


def test_sweep_rechecks_a_conversation_after_new_activity(classifier, user):
    from conversations.safety import conversation_safety_sweep

    conversation = conversation_start(user=user, text="sourdough")
    conversation_safety_sweep()

    message_post(conversation=conversation, text="now about a bomb")

    assert conversation_safety_sweep() == 1
    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is not None


def test_sweep_does_nothing_without_a_classifier(settings, user):
    from conversations.safety import conversation_safety_sweep

    settings.SAFETY_CLASSIFIER = None
    conversation_start(user=user, text="anything")

    assert conversation_safety_sweep() == 0
