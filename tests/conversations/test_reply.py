"""The assistant answers outside any database transaction, and a failed answer loses nothing."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from conversations import errors
from conversations.models import Conversation, Message, Role
from conversations.services import (
    ReplyFailed,
    conversation_reply,
    conversation_start,
    message_post,
)
from tests.factories import ConversationFactory, MessageFactory, UserFactory

RECORDING = "tests.conversations.test_reply.RecordingResponder"
FAILING = "tests.conversations.test_reply.FailingResponder"


class RecordingResponder:
    """Stands in for a slow network model: notes what the database looked like meanwhile."""

    display_name = "Recording assistant"
    seen: list[dict] = []

    def reply(self, history: list[tuple[str, str]]) -> str:
        question = history[-1][1]
        RecordingResponder.seen.append(
            {
                "in_atomic_block": connection.in_atomic_block,
                # What another process sees while the model is thinking: committed rows only.
                "question_visible_elsewhere": _visible_from_another_connection(question),
            }
        )
        return f"an answer to {question}"


class FailingResponder:
    display_name = "Unreachable assistant"

    def reply(self, history: list[tuple[str, str]]) -> str:
        raise TimeoutError("the model did not answer in time")


def _visible_from_another_connection(content: str) -> bool:
    found = []

    def look() -> None:
        try:
            found.append(Message.objects.filter(content=content, role=Role.USER).exists())
        finally:
            connections.close_all()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    return found[0]


@pytest.fixture
def recording(settings):
    settings.CHAT_RESPONDER = RECORDING
    RecordingResponder.seen = []
    return RecordingResponder.seen


@pytest.mark.django_db(transaction=True)
def test_the_responder_runs_with_no_transaction_open_and_the_message_committed(recording):
    user = UserFactory()

    conversation = conversation_start(user=user, text="first question")
    message_post(conversation=conversation, text="second question")

    assert recording == [
        {"in_atomic_block": False, "question_visible_elsewhere": True},
        {"in_atomic_block": False, "question_visible_elsewhere": True},
    ]
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", "first question"),
        ("assistant", "an answer to first question"),
        ("user", "second question"),
        ("assistant", "an answer to second question"),
    ]


@pytest.mark.django_db(transaction=True)
def test_asking_again_runs_with_no_transaction_open(recording):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, role=Role.USER, content="unanswered")

    conversation_reply(conversation=conversation)

    assert recording == [{"in_atomic_block": False, "question_visible_elsewhere": True}]


@pytest.mark.django_db
def test_a_failed_reply_keeps_the_message_and_says_so(settings):
    settings.CHAT_RESPONDER = FAILING
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, role=Role.USER, content="hello")
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="hi")

    with pytest.raises(ReplyFailed) as failed:
        message_post(conversation=conversation, text="are you there?")

    assert failed.value.question.content == "are you there?"
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", "hello"),
        ("assistant", "hi"),
        ("user", "are you there?"),
    ]


@pytest.mark.django_db
def test_a_failed_first_reply_keeps_the_new_conversation(settings):
    settings.CHAT_RESPONDER = FAILING
    user = UserFactory()

    with pytest.raises(ReplyFailed) as failed:
        conversation_start(user=user, text="the very first words")

    conversation = Conversation.objects.get(user=user)
    assert failed.value.conversation.pk == conversation.pk
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", "the very first words")
    ]


@pytest.mark.django_db
def test_asking_again_answers_the_unanswered_message_once(settings):
    settings.CHAT_RESPONDER = FAILING
    conversation = conversation_start_failing(settings)
    settings.CHAT_RESPONDER = RECORDING

    reply = conversation_reply(conversation=conversation)
    again = conversation_reply(conversation=conversation)

    assert reply.role == Role.ASSISTANT
    assert reply.content == "an answer to lost words"
    assert again is None
    assert conversation.messages.filter(role=Role.ASSISTANT).count() == 1


def conversation_start_failing(settings) -> Conversation:
    with pytest.raises(ReplyFailed) as failed:
        conversation_start(user=UserFactory(), text="lost words")
    return failed.value.conversation


# --- The chat page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_post_shows_the_error_and_offers_to_ask_again(settings, client_logged_in, user):
    conversation = ConversationFactory(user=user)
    MessageFactory(conversation=conversation, role=Role.USER, content="hello")
    MessageFactory(conversation=conversation, role=Role.ASSISTANT, content="hi")
    settings.CHAT_RESPONDER = FAILING

    response = client_logged_in.post(
        reverse("conversations:post", kwargs={"conversation_id": conversation.pk}),
        {"text": "are you there?"},
        follow=True,
    )

    assert response.redirect_chain[-1] == (conversation.get_absolute_url(), 303)
    page = response.content.decode()
    assert str(errors.REPLY_FAILED) in page
    assert "are you there?" in page
    assert reverse("conversations:reply", kwargs={"conversation_id": conversation.pk}) in page


@pytest.mark.django_db
def test_a_failed_htmx_post_reloads_the_thread(settings, client_logged_in, user):
    conversation = ConversationFactory(user=user)
    settings.CHAT_RESPONDER = FAILING

    response = client_logged_in.post(
        reverse("conversations:post", kwargs={"conversation_id": conversation.pk}),
        {"text": "are you there?"},
        HTTP_HX_REQUEST="true",
    )

    assert response["HX-Redirect"] == conversation.get_absolute_url()
    assert conversation.messages.get().content == "are you there?"


@pytest.mark.django_db
def test_a_failed_start_leads_to_the_saved_conversation(settings, client_logged_in, user):
    settings.CHAT_RESPONDER = FAILING

    response = client_logged_in.post(reverse("conversations:new"), {"text": "first words"})

    conversation = Conversation.objects.get(user=user)
    assert response.status_code == 303
    assert response.url == conversation.get_absolute_url()


@pytest.mark.django_db
def test_ask_again_button_gets_the_reply(settings, client_logged_in, user, recording):
    conversation = ConversationFactory(user=user)
    MessageFactory(conversation=conversation, role=Role.USER, content="unanswered")
    url = reverse("conversations:reply", kwargs={"conversation_id": conversation.pk})

    response = client_logged_in.post(url)

    reply = conversation.messages.get(role=Role.ASSISTANT)
    assert response.status_code == 303
    assert response.url == f"{conversation.get_absolute_url()}#message-{reply.pk}"
    page = client_logged_in.get(conversation.get_absolute_url()).content.decode()
    assert url not in page  # answered: nothing to ask again


@pytest.mark.django_db
def test_asking_again_in_another_users_conversation_is_not_found(
    settings, client_logged_in, other_user, recording
):
    conversation = ConversationFactory(user=other_user)
    MessageFactory(conversation=conversation, role=Role.USER, content="theirs")

    response = client_logged_in.post(
        reverse("conversations:reply", kwargs={"conversation_id": conversation.pk})
    )

    assert response.status_code == 404
    assert recording == []
    assert conversation.messages.count() == 1
