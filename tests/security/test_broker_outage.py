"""A broker outage costs background work, never a request that already saved its data."""

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from conversations.models import Conversation
from conversations.tasks import classify_conversation_safety

# Real commits: the enqueue runs in on_commit, inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(classify_conversation_safety, "delay", refuse)


def test_a_chat_post_is_saved_and_answered_while_the_broker_is_down(
    client, settings, django_user_model, broker_down
):
    settings.SAFETY_CLASSIFIER = "tests.retention.classifiers.flag_when_asked_about_weapons"
    client.force_login(django_user_model.objects.create_user("chat@example.com", "pw-12345678"))

    response = client.post(reverse("conversations:new"), {"text": "How do tides work?"})

    assert response.status_code == 303
    assert Conversation.objects.count() == 1
