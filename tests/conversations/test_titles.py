"""A conversation's title: its first message, cut at a word boundary with an ellipsis."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.services import TITLE_LENGTH, conversation_start, conversation_title

LONG = "How do I keep tomato plants healthy through a wet and unusually cold summer in Scotland?"


def test_a_short_message_is_the_whole_title():
    assert conversation_title("  How do tides   work?\n") == "How do tides work?"


def test_a_long_message_is_cut_after_the_last_whole_word_with_an_ellipsis():
    title = conversation_title(LONG)

    assert title == "How do I keep tomato plants healthy through a wet and…"
    assert len(title) <= TITLE_LENGTH


def test_a_message_of_exactly_the_limit_is_not_cut():
    text = ("word " * 12)[:TITLE_LENGTH]

    assert conversation_title(text) == text.strip()


def test_a_word_ending_exactly_at_the_cut_is_kept_whole():
    # 59 characters then a space: the whole 59 fit before the ellipsis.
    text = "a" * 29 + " " + "b" * 29 + " more words after"

    assert conversation_title(text) == "a" * 29 + " " + "b" * 29 + "…"


def test_punctuation_before_the_ellipsis_is_dropped():
    text = "Quick question about my garden, " + "and then a very long tail of words here"

    assert conversation_title(text) == "Quick question about my garden, and then a very long tail…"
    assert conversation_title("x" * 40 + ", " + "y" * 40) == "x" * 40 + "…"


def test_a_single_overlong_word_is_cut_inside_it():
    assert conversation_title("z" * 100) == "z" * (TITLE_LENGTH - 1) + "…"


def test_an_empty_message_gets_a_placeholder_title():
    assert conversation_title(" \n\t ") == "New conversation"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_title_fits_and_is_the_start_of_the_message(text):
    collapsed = " ".join(text.split())

    title = conversation_title(text)

    assert len(title) <= TITLE_LENGTH
    if len(collapsed) <= TITLE_LENGTH:
        assert title == (collapsed or "New conversation")
    else:
        assert title.endswith("…")
        assert collapsed.startswith(title[:-1])


@pytest.mark.django_db
def test_starting_a_conversation_uses_the_cut_title(user):
    conversation = conversation_start(user=user, text=LONG)

    assert conversation.title == "How do I keep tomato plants healthy through a wet and…"


def test_a_message_of_only_punctuation_still_gets_a_readable_title():
    assert conversation_title(", " * 40) == (", " * 40)[: TITLE_LENGTH - 1] + "…"
