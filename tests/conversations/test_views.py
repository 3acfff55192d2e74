from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.responders import DemoResponder
from conversations.views import CONVERSATION_DELETED
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * 32_001


@pytest.fixture
def conversation(user):
    conversation = ConversationFactory(user=user, title="Planning a trip")
    MessageFactory(conversation=conversation, role="user", content="Where should I go?")
    MessageFactory(conversation=conversation, role="assistant", content="Somewhere warm.")
    return conversation


@pytest.fixture
def others_conversation(other_user):
    conversation = ConversationFactory(user=other_user, title="Someone else's secret")
    MessageFactory(conversation=conversation, content="private words")
    return conversation


def post_url(conversation) -> str:
    return reverse("conversations:post", kwargs={"conversation_id": conversation.pk})


def delete_url(conversation) -> str:
    return reverse("conversations:delete", kwargs={"conversation_id": conversation.pk})


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "new"])
def test_anonymous_visitor_is_sent_to_login(client, name):
    url = reverse(f"conversations:{name}")

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


def test_anonymous_post_is_sent_to_login_and_writes_nothing(client, conversation):
    response = client.post(post_url(conversation), {"text": "hello"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert conversation.messages.count() == 2


def test_home_sends_a_visitor_to_login_and_a_member_to_their_conversations(
    client, client_logged_in
):
    assert client_logged_in.get(reverse("home")).url == reverse("conversations:list")
    client_logged_in.logout()
    assert client.get(reverse("home")).url == reverse("accounts:login")


def test_another_users_conversation_is_not_found(client_logged_in, others_conversation):
    response = client_logged_in.get(others_conversation.get_absolute_url())

    assert response.status_code == 404
    assert "private words" not in response.content.decode()


def test_posting_to_another_users_conversation_is_not_found_and_writes_nothing(
    client_logged_in, others_conversation
):
    response = client_logged_in.post(post_url(others_conversation), {"text": "sneaky"})

    assert response.status_code == 404
    assert others_conversation.messages.count() == 1


def test_deleting_another_users_conversation_is_not_found_and_deletes_nothing(
    client_logged_in, others_conversation
):
    assert client_logged_in.get(delete_url(others_conversation)).status_code == 404
    assert client_logged_in.post(delete_url(others_conversation)).status_code == 404
    assert Conversation.objects.filter(pk=others_conversation.pk).exists()


def test_get_to_the_post_url_is_not_allowed(client_logged_in, conversation):
    response = client_logged_in.get(post_url(conversation))

    assert response.status_code == 405
    assert conversation.messages.count() == 2


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_delete_url_only_accepts_get_and_post(client_logged_in, conversation, method):
    response = getattr(client_logged_in, method)(delete_url(conversation))

    assert response.status_code == 405
    assert Conversation.objects.filter(pk=conversation.pk).exists()


# --- List ----------------------------------------------------------------------------------


def test_list_shows_only_my_conversations_newest_activity_first(
    client_logged_in, user, others_conversation
):
    now = timezone.now()
    ConversationFactory(user=user, title="Old one", last_activity_at=now - timedelta(days=3))
    ConversationFactory(user=user, title="Fresh one", last_activity_at=now - timedelta(minutes=5))
    ConversationFactory(user=user, title="Middle one", last_activity_at=now - timedelta(days=1))

    response = client_logged_in.get(reverse("conversations:list"))

    html = response.content.decode()
    assert [row.conversation.title for row in response.context["conversations"]] == [
        "Fresh one",
        "Middle one",
        "Old one",
    ]
    assert html.index("Fresh one") < html.index("Middle one") < html.index("Old one")
    assert "Someone else" not in html
    assert "5\xa0minutes ago" in html


def test_list_shows_the_message_count(client_logged_in, conversation):
    response = client_logged_in.get(reverse("conversations:list"))

    assert "2 messages" in response.content.decode()


def test_list_without_conversations_offers_to_start_one(client_logged_in):
    response = client_logged_in.get(reverse("conversations:list"))

    html = response.content.decode()
    assert "No conversations yet" in html
    assert f'action="{reverse("conversations:new")}"' in html


# --- Start ---------------------------------------------------------------------------------


def test_new_conversation_page_has_a_labelled_message_box(client_logged_in):
    response = client_logged_in.get(reverse("conversations:new"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_text">' in html
    assert 'id="id_text"' in html


def test_starting_a_conversation_saves_the_message_and_the_reply(client_logged_in, user):
    response = client_logged_in.post(
        reverse("conversations:new"), {"text": "  How do tides work?  "}
    )

    conversation = Conversation.objects.get(user=user)
    assert response.status_code == 303
    assert response.url == conversation.get_absolute_url()
    assert conversation.title == "How do tides work?"
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", "How do tides work?"),
        ("assistant", DemoResponder().reply([("user", "How do tides work?")])),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("   ", "Write a message before sending."),
        (TOO_LONG, "Messages can be at most 32000 characters; this one has 32001."),
    ],
    ids=["empty", "too-long"],
)
def test_starting_with_an_invalid_message_shows_the_error_and_writes_nothing(
    client_logged_in, text, error
):
    response = client_logged_in.post(reverse("conversations:new"), {"text": text})

    html = response.content.decode()
    assert response.status_code == 200
    assert error in html
    assert 'aria-describedby="id_text_error"' in html
    assert not Conversation.objects.exists()


# --- Thread and posting --------------------------------------------------------------------


def test_detail_shows_the_thread_with_the_demo_assistant_labelled(client_logged_in, conversation):
    response = client_logged_in.get(conversation.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Where should I go?") < html.index("Somewhere warm.")
    assert "Demo assistant (offline)" in html
    assert 'role="log"' in html


def test_detail_escapes_message_content(client_logged_in, conversation):
    MessageFactory(conversation=conversation, content="<script>alert(1)</script>")

    response = client_logged_in.get(conversation.get_absolute_url())

    assert "<script>alert(1)</script>" not in response.content.decode()


def test_posting_without_javascript_saves_and_redirects_back_to_the_thread(
    client_logged_in, conversation
):
    response = client_logged_in.post(post_url(conversation), {"text": "And in winter?"})

    question, answer = conversation.messages.order_by("-pk")[:2][::-1]
    assert response.status_code == 303
    assert response.url == f"{conversation.get_absolute_url()}#message-{answer.pk}"
    assert (question.role, question.content) == ("user", "And in winter?")
    assert answer.role == "assistant"


def test_posting_reopens_the_conversation(client_logged_in, conversation):
    earlier = conversation.last_activity_at - timedelta(days=10)
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=earlier)

    client_logged_in.post(post_url(conversation), {"text": "Back again"})

    conversation.refresh_from_db()
    assert conversation.last_activity_at > earlier


def test_posting_with_htmx_returns_only_the_new_messages_and_a_fresh_form(
    client_logged_in, conversation
):
    response = client_logged_in.post(
        post_url(conversation), {"text": "And in winter?"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Where should I go?" not in html  # the earlier thread is not sent again
    assert html.count('class="message message--user"') == 1
    assert html.count('class="message message--assistant"') == 1
    assert "And in winter?" in html
    assert 'hx-swap-oob="true"' in html  # the composer comes back empty
    assert "data-autofocus" in html
    assert conversation.messages.count() == 4


@pytest.mark.parametrize("text", ["", TOO_LONG], ids=["empty", "too-long"])
def test_posting_an_invalid_message_shows_the_error_next_to_the_field_and_writes_nothing(
    client_logged_in, conversation, text
):
    response = client_logged_in.post(post_url(conversation), {"text": text})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_text_error"' in html
    assert 'aria-invalid="true"' in html
    assert "Where should I go?" in html  # the thread is still there
    assert conversation.messages.count() == 2


def test_posting_an_invalid_message_with_htmx_swaps_the_form_with_its_error(
    client_logged_in, conversation
):
    response = client_logged_in.post(post_url(conversation), {"text": ""}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#message-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert html.lstrip().startswith('<form id="message-form"')
    assert "Write a message before sending." in html
    assert conversation.messages.count() == 2


# --- Delete --------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_first(client_logged_in, conversation):
    response = client_logged_in.get(delete_url(conversation))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Delete this conversation?" in html
    assert f'action="{delete_url(conversation)}"' in html
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_delete_removes_the_conversation_and_its_messages(client_logged_in, conversation):
    response = client_logged_in.post(delete_url(conversation), follow=True)

    assert response.redirect_chain == [(reverse("conversations:list"), 303)]
    assert CONVERSATION_DELETED in response.content.decode()
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


# --- Query counts --------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_the_number_of_conversations(client_logged_in, user):
    ConversationFactory(user=user)
    count_queries(client_logged_in, reverse("conversations:list"))  # warm per-process caches
    one = count_queries(client_logged_in, reverse("conversations:list"))
    ConversationFactory.create_batch(10, user=user)

    assert count_queries(client_logged_in, reverse("conversations:list")) == one


def test_thread_queries_do_not_grow_with_the_number_of_messages(client_logged_in, conversation):
    url = conversation.get_absolute_url()
    count_queries(client_logged_in, url)  # warm per-process caches
    before = count_queries(client_logged_in, url)
    MessageFactory.create_batch(10, conversation=conversation)

    assert count_queries(client_logged_in, url) == before
