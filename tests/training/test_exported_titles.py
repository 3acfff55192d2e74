"""The title a ledger row keeps (shown in "used in training" once the chat is gone): made
from the redacted first message, cut at a word boundary like a conversation's own title."""

import pytest

from conversations.services import TITLE_LENGTH, conversation_delete
from training.selectors import training_uses_for
from training.services import training_snapshot_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(person, decide):
    someone = person()
    decide.opt_in(someone)
    return someone


def listed_title_after_delete(user, conversation, tmp_path) -> str:
    training_snapshot_export(out_path=tmp_path / "s.json")
    conversation_delete(conversation=conversation)
    [use] = training_uses_for(user)
    return use.conversation_title


def test_a_long_title_is_cut_before_a_redaction_marker_not_inside_it(alice, chat, tmp_path):
    conversation = chat(
        alice, "Remind the team about the overdue invoices and write to jane.doe@example.com soon"
    )

    title = listed_title_after_delete(alice, conversation, tmp_path)

    # A cut at 60 characters would end in "[EMA".
    assert title == "Remind the team about the overdue invoices and write to…"


def test_a_long_title_is_cut_between_words_with_an_ellipsis(alice, chat, tmp_path):
    conversation = chat(
        alice,
        "Please draft a polite reminder about the overdue quarterly invoices for the warehouse",
    )

    title = listed_title_after_delete(alice, conversation, tmp_path)

    assert title == "Please draft a polite reminder about the overdue quarterly…"
    assert len(title) <= TITLE_LENGTH


def test_a_short_title_is_kept_whole_with_its_whitespace_collapsed(alice, chat, tmp_path):
    conversation = chat(alice, "  Mail  jane.doe@example.com\nthe invoice ")

    assert listed_title_after_delete(alice, conversation, tmp_path) == "Mail [EMAIL] the invoice"
