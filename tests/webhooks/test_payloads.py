"""The OpenAPI document describes every event payload, and real payloads match it."""

import pytest

from tests.factories import ConversationFactory, UserFactory
from webhooks.models import Event, EventType
from webhooks.payloads import event_payload
from webhooks.schemas import ENVELOPES

pytestmark = pytest.mark.django_db


def test_the_openapi_document_has_a_webhook_per_event_type(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == set(EventType.values)
    ref = schema["webhooks"]["consent.decided"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"]


def test_real_payloads_match_their_documented_schema(decide):
    from consent.models import Choice
    from conversations.services import conversation_delete
    from retention.services import hold_place, hold_release
    from training.data_rights import user_account_delete

    user = UserFactory()
    decide(user, Choice.OPT_IN)
    decide(user, Choice.OPT_OUT)
    conversation_delete(conversation=ConversationFactory(user=user))
    hold_release(hold=hold_place(reason="audit", user=user))
    user_account_delete(user=user)

    events = list(Event.objects.all())
    assert {e.type for e in events} >= {
        "consent.decided",
        "conversation.deleted",
        "hold.placed",
        "hold.released",
        "account.deleted",
    }
    for event in events:
        ENVELOPES[event.type].model_validate(event_payload(event))
