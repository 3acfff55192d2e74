"""No answer of the API carries message content, and a conversation's title is content.

Every token has the read-only consent scope (api.models.Scope): none allows content.
"""

import pytest
from django.urls import reverse

from api.models import Scope, ServiceToken
from conversations.models import Conversation

pytestmark = pytest.mark.django_db

TITLE = "Zanzibar-quartz confidential diagnosis"


def test_no_scope_allows_message_content():
    assert {scope.value for scope in Scope} == {"consent:read"}
    assert ServiceToken._meta.get_field("scope").default == Scope.CONSENT_READ


def test_no_answer_about_a_conversation_or_its_owner_returns_its_title(api, person, decide, chat):
    owner = person()
    record = decide.opt_in(owner)
    conversation = chat(owner)
    Conversation.objects.filter(pk=conversation.pk).update(title=TITLE)
    urls = [
        reverse(
            "api:conversation_training_eligibility", kwargs={"conversation_id": conversation.pk}
        ),
        reverse("api:user_consent", kwargs={"user_id": owner.pk}),
        reverse("api:receipt", kwargs={"record_id": record.pk}),
        reverse("api:policy_current"),
    ]

    for url in urls:
        response = api.get(url)

        assert response.status_code == 200, url
        assert "Zanzibar" not in response.content.decode(), url


def test_the_schema_has_no_field_for_a_conversation_title(anonymous_api):
    schemas = anonymous_api.get("/api/v1/openapi.json").json()["components"]["schemas"]

    conversation_fields = set(schemas["TrainingEligibilityOut"]["properties"])

    assert not {"title", "conversation_title", "text", "messages"} & conversation_fields
