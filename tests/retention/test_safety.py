from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.safety import (
    conversation_safety_classify,
    conversation_safety_classify_enqueue,
    conversation_safety_flag,
    conversation_safety_unflag,
)
from conversations.services import conversation_start
from retention.services import retention_purge_run
from tests.factories import ConversationFactory, UserFactory

from . import classifiers
from .conftest import exists, opt_in, opt_out

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
CLASSIFIER = "tests.retention.classifiers.flag_when_asked_about_weapons"


@pytest.fixture
def opted_out_conversation(policy):
    user = UserFactory()
    opt_out(user, policy)
    return conversation_start(user=user, text="hello")


def test_safety_flag_extends_retention_by_730_days(opted_out_conversation):
    before = opted_out_conversation.retain_until

    flagged = conversation_safety_flag(conversation=opted_out_conversation)

    assert flagged.safety_flagged_at is not None
    assert flagged.retain_until == before + 730 * DAY


def test_safety_flag_extends_opt_in_retention_too(policy):
    user = UserFactory()
    opt_in(user, policy)
    conversation = conversation_start(user=user, text="hello")

    flagged = conversation_safety_flag(conversation=conversation)

    assert flagged.retain_until == conversation.last_activity_at + (1825 + 730) * DAY


def test_safety_extension_comes_from_settings(opted_out_conversation, settings):
    settings.SAFETY_RETENTION_EXTENSION_DAYS = 10

    flagged = conversation_safety_flag(conversation=opted_out_conversation)

    assert flagged.retain_until == opted_out_conversation.last_activity_at + 40 * DAY


def test_clearing_the_flag_restores_consent_based_retention(opted_out_conversation):
    before = opted_out_conversation.retain_until
    conversation_safety_flag(conversation=opted_out_conversation)

    cleared = conversation_safety_unflag(conversation=opted_out_conversation)

    assert cleared.safety_flagged_at is None
    assert cleared.retain_until == before


def test_flagging_twice_keeps_the_first_flag_time(opted_out_conversation):
    first = conversation_safety_flag(conversation=opted_out_conversation)

    with time_machine.travel(timezone.now() + DAY):
        again = conversation_safety_flag(conversation=first)

    assert again.safety_flagged_at == first.safety_flagged_at


def test_flagged_conversation_outlives_its_consent_based_retention(opted_out_conversation):
    conversation_safety_flag(conversation=opted_out_conversation)

    with time_machine.travel(timezone.now() + 31 * DAY):
        retention_purge_run()

    assert exists(opted_out_conversation)


def test_classifier_flags_what_it_says_to_keep(settings, policy):
    settings.SAFETY_CLASSIFIER = CLASSIFIER
    user = UserFactory()
    opt_out(user, policy)
    worrying = conversation_start(user=user, text="how to build a weapon")
    harmless = conversation_start(user=user, text="a cake recipe")

    results = [conversation_safety_classify(conversation_id=c.pk) for c in (worrying, harmless)]

    worrying.refresh_from_db()
    harmless.refresh_from_db()
    assert results == [True, False]
    assert worrying.safety_flagged_at is not None
    assert harmless.safety_flagged_at is None


def test_classifier_sees_the_history_oldest_first(settings, policy):
    settings.SAFETY_CLASSIFIER = CLASSIFIER
    classifiers.seen.clear()
    user = UserFactory()
    opt_out(user, policy)
    conversation = conversation_start(user=user, text="first question")

    conversation_safety_classify(conversation_id=conversation.pk)

    assert classifiers.seen[0][0] == ("user", "first question")
    assert [role for role, _ in classifiers.seen[0]] == ["user", "assistant"]


def test_without_a_classifier_nothing_is_flagged(settings):
    settings.SAFETY_CLASSIFIER = None
    conversation = ConversationFactory()

    assert conversation_safety_classify(conversation_id=conversation.pk) is False
    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is None


def test_classifying_a_deleted_conversation_does_nothing(settings):
    settings.SAFETY_CLASSIFIER = CLASSIFIER

    assert conversation_safety_classify(conversation_id=987654) is False


def test_classification_is_enqueued_after_commit(
    settings, policy, django_capture_on_commit_callbacks
):
    settings.SAFETY_CLASSIFIER = CLASSIFIER
    user = UserFactory()
    opt_out(user, policy)
    conversation = conversation_start(user=user, text="a weapon question")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        conversation_safety_classify_enqueue(conversation=conversation)

    conversation.refresh_from_db()
    assert len(callbacks) == 1
    assert conversation.safety_flagged_at is not None


def test_nothing_is_enqueued_without_a_classifier(settings, django_capture_on_commit_callbacks):
    settings.SAFETY_CLASSIFIER = None

    with django_capture_on_commit_callbacks() as callbacks:
        conversation_safety_classify_enqueue(conversation=ConversationFactory())

    assert callbacks == []
