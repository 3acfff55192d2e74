"""Two "ask again" requests for one unanswered message: one reply is saved, not two."""

import pytest

from conversations.models import Conversation, Role
from conversations.services import conversation_reply
from tests.factories import ConversationFactory, MessageFactory

TWIN = "tests.conversations.test_reply_race.TwinRetryResponder"


class TwinRetryResponder:
    """While the model thinks about the first retry, a second retry (another tab) asks and
    is answered first."""

    conversation_id: int | None = None
    asked: list[str] = []

    def reply(self, history: list[tuple[str, str]]) -> str:
        TwinRetryResponder.asked.append(history[-1][1])
        answer = f"answer {len(TwinRetryResponder.asked)}"
        if len(TwinRetryResponder.asked) == 1:
            twin = Conversation.objects.get(pk=TwinRetryResponder.conversation_id)
            conversation_reply(conversation=twin)
        return answer


@pytest.mark.django_db
def test_a_retry_that_lost_the_race_to_its_twin_saves_nothing(settings):
    settings.CHAT_RESPONDER = TWIN
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, role=Role.USER, content="still there?")
    TwinRetryResponder.conversation_id = conversation.pk
    TwinRetryResponder.asked = []

    lost = conversation_reply(conversation=conversation)

    assert lost is None
    assert TwinRetryResponder.asked == ["still there?", "still there?"]
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", "still there?"),
        ("assistant", "answer 2"),
    ]
    # The loser did not record activity either: the row still shows the twin's reply.
    conversation.refresh_from_db()
    reply = conversation.messages.get(role=Role.ASSISTANT)
    assert conversation.last_activity_at == reply.created_at
