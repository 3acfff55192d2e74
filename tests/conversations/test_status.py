"""Each chat's status line: training use under the present choice, and until when it is kept."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations.models import Conversation
from conversations.presenters import (
    COVERED,
    DUE_FOR_DELETION,
    NOT_COVERED,
    Coverage,
    StatusWriter,
)
from conversations.selectors import conversation_get_for, conversation_list_for
from conversations.services import conversation_start
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

# 14:00 UTC: thirty days later is still 31 December in UTC but already 1 January in Auckland.
START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
HINT = "Replying will let this chat be used to improve the model, and keep it for 5 years."
IN_UTC = SimpleNamespace(time_zone="UTC")
TEMPORARY_LINE = "Temporary chat: never used for training, deleted 30 days after its last message"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, user):
    """Sign ``client`` in now (after any time travel, so the session is fresh)."""

    def sign_in():
        client.force_login(user, backend="consent.backends.ConsentStandingBackend")
        return client

    return sign_in


def page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def thread_url(conversation) -> str:
    return conversation.get_absolute_url()


LIST_URL = reverse("conversations:list")


# --- Wording per state ------------------------------------------------------------------------


def test_covered_chat_says_it_may_be_used_and_is_kept_five_years(user, decide, signed_in):
    decide.opt_in(user)
    conversation = conversation_start(user=user, text="Plan my garden")
    client = signed_in()

    for html in (page(client, LIST_URL), page(client, thread_url(conversation))):
        assert str(COVERED) in html
        assert "Kept until 30 November 2031" in html
        assert HINT not in html


def test_opted_out_chat_says_not_used_and_kept_thirty_days(user, decide, signed_in):
    decide.opt_out(user)
    conversation = conversation_start(user=user, text="Plan my garden")
    client = signed_in()

    for html in (page(client, LIST_URL), page(client, thread_url(conversation))):
        assert str(NOT_COVERED) in html
        assert "Kept until 31 December 2026" in html
        assert HINT not in html  # opted out: replying changes nothing


def test_temporary_chat_says_so_in_list_and_thread(user, decide, signed_in):
    decide.opt_in(user)
    conversation = conversation_start(user=user, text="Off the record", temporary=True)
    client = signed_in()

    for html in (page(client, LIST_URL), page(client, thread_url(conversation))):
        assert TEMPORARY_LINE in html
        assert "Kept until 31 December 2026" in html
        assert '<span class="badge badge--accent">Temporary</span>' in html
        assert str(COVERED) not in html
        assert HINT not in html  # opted in, but a temporary chat is never covered


def test_a_past_kept_until_date_is_never_shown_as_a_promise(user, decide, signed_in, clock):
    decide.opt_out(user)
    conversation = conversation_start(user=user, text="Plan my garden")
    clock.move_to(START + timedelta(days=31))  # the purge has not run yet
    client = signed_in()

    for html in (page(client, LIST_URL), page(client, thread_url(conversation))):
        assert str(DUE_FOR_DELETION) in html
        assert "Kept until" not in html
        assert "31 December 2026" not in html


def test_kept_until_turns_due_for_deletion_at_the_instant(user, decide, clock):
    decide.opt_out(user)
    conversation = conversation_start(user=user, text="Plan my garden")
    kept_until = Conversation.objects.get(pk=conversation.pk).retain_until

    def status_at(instant):
        clock.move_to(instant)
        writer = StatusWriter(user=IN_UTC, policy=None, choice=None, now=instant)
        return writer.status(conversation_get_for(user, conversation.pk)).kept

    assert status_at(kept_until - timedelta(seconds=1)) == "Kept until 31 December 2026"
    assert status_at(kept_until) == DUE_FOR_DELETION


@pytest.mark.parametrize(
    ("account", "kept"),
    [
        (SimpleNamespace(time_zone="Pacific/Auckland"), "Kept until 1 January 2027"),
        (SimpleNamespace(time_zone=""), "Kept until 31 December 2026 (UTC)"),
        (SimpleNamespace(), "Kept until 31 December 2026 (UTC)"),
    ],
    ids=["own-zone", "no-zone-chosen", "no-zone-field"],
)
def test_the_date_is_in_the_users_own_zone_else_the_named_site_zone(
    user, decide, policy, account, kept
):
    decide.opt_out(user)
    conversation = conversation_get_for(
        user, conversation_start(user=user, text="Hi").pk, policy=policy
    )

    status = StatusWriter(user=account, policy=policy, choice=None, now=START).status(conversation)

    assert status.kept == kept


def test_a_chat_from_an_earlier_opt_in_run_is_not_covered(user, decide, signed_in):
    decide.opt_in(user)
    conversation = conversation_start(user=user, text="Plan my garden")
    decide.opt_out(user)
    decide.opt_in(user)
    client = signed_in()

    html = page(client, thread_url(conversation))

    assert str(NOT_COVERED) in html
    assert str(COVERED) not in html


# --- Replying brings an old chat under the opt-in, said beforehand -------------------------------


@pytest.fixture
def old_chat(user, decide, clock):
    """Started while opted out; the user has since opted in."""
    decide.opt_out(user)
    conversation = conversation_start(user=user, text="Plan my garden")
    clock.shift(timedelta(days=3))
    decide.opt_in(user)
    return conversation


def test_composer_says_replying_brings_an_old_chat_under_the_choice(old_chat, signed_in):
    html = page(signed_in(), thread_url(old_chat))

    assert str(NOT_COVERED) in html
    assert f'<div class="field__help" id="id_text_helptext">{HINT}</div>' in html
    assert 'aria-describedby="id_text_helptext"' in html  # read out with the message box


def test_htmx_reply_swaps_the_status_line_and_drops_the_hint(old_chat, signed_in):
    response = signed_in().post(
        reverse("conversations:post", kwargs={"conversation_id": old_chat.pk}),
        {"text": "Add tomatoes"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    status_line = html[html.index('id="conversation-status"') :]
    assert 'hx-swap-oob="true"' in status_line.split(">", 1)[0]
    assert str(COVERED) in status_line
    assert "Kept until" in status_line
    assert HINT not in html  # the fresh composer no longer promises what just happened


def test_reply_without_javascript_shows_the_chat_covered(old_chat, signed_in):
    client = signed_in()
    client.post(
        reverse("conversations:post", kwargs={"conversation_id": old_chat.pk}),
        {"text": "Add tomatoes"},
    )

    html = page(client, thread_url(old_chat))

    assert str(COVERED) in html
    assert HINT not in html


def test_an_invalid_htmx_reply_keeps_the_hint_with_the_error(old_chat, signed_in):
    response = signed_in().post(
        reverse("conversations:post", kwargs={"conversation_id": old_chat.pk}),
        {"text": ""},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert "Write a message before sending." in html
    assert HINT in html


# --- The one coverage rule, in one query ------------------------------------------------------


def test_list_coverage_is_the_coverage_rule(user, decide, clock):
    decide.opt_out(user)
    before = conversation_start(user=user, text="Before")
    decide.opt_in(user)
    covered = conversation_start(user=user, text="Covered")
    temporary = conversation_start(user=user, text="Temporary", temporary=True)

    listed = {c.pk: c.is_covered for c in conversation_list_for(user)}

    assert listed == {before.pk: False, covered.pk: True, temporary.pk: False}


def test_list_status_costs_the_same_queries_for_one_chat_or_many(
    user, decide, signed_in, django_assert_num_queries
):
    decide.opt_in(user)
    conversation_start(user=user, text="First")
    client = signed_in()
    page(client, LIST_URL)  # per-process memos warmed
    with CaptureQueriesContext(connection) as one:
        page(client, LIST_URL)
    ConversationFactory.create_batch(5, user=user)
    conversation_start(user=user, text="Temporary", temporary=True)

    with django_assert_num_queries(len(one)):
        html = page(client, LIST_URL)

    assert html.count('class="chat-status ') == 7


def test_list_coverage_status_for_each_kind_in_the_rows(user, decide, signed_in):
    decide.opt_out(user)
    conversation_start(user=user, text="Before")
    decide.opt_in(user)
    conversation_start(user=user, text="Covered")
    conversation_start(user=user, text="Temporary", temporary=True)

    response = signed_in().get(LIST_URL)

    kinds = [row.status.coverage for row in response.context["conversations"]]
    assert kinds == [Coverage.TEMPORARY, Coverage.COVERED, Coverage.NOT_COVERED]
