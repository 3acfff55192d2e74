from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from retention import errors
from retention.models import Hold
from retention.selectors import conversation_is_held
from retention.services import hold_place, hold_release, retention_purge_run
from tests.factories import ConversationFactory, UserFactory

from .conftest import conversation_due_in, exists

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def test_held_conversation_is_never_purged(holder):
    held = conversation_due_in(-DAY)
    hold_place(conversation=held, reason="litigation", created_by=holder)

    with time_machine.travel(timezone.now() + 3650 * DAY):
        retention_purge_run()

    assert exists(held)


def test_every_conversation_of_a_held_user_is_kept(holder):
    user = UserFactory()
    first = conversation_due_in(-DAY, user=user)
    hold_place(user=user, reason="regulator request", created_by=holder)
    started_later = conversation_due_in(-DAY, user=user)
    someone_else = conversation_due_in(-DAY)

    retention_purge_run()

    assert exists(first)
    assert exists(started_later)
    assert not exists(someone_else)


def test_releasing_a_hold_resumes_retention(holder):
    held = conversation_due_in(-DAY)
    hold = hold_place(conversation=held, reason="litigation", created_by=holder)
    retention_purge_run()
    assert exists(held)

    hold_release(hold=hold, released_by=holder)
    retention_purge_run()

    assert not exists(held)


def test_releasing_a_user_hold_resumes_retention(holder):
    user = UserFactory()
    conversation = conversation_due_in(-DAY, user=user)
    hold = hold_place(user=user, reason="regulator request", created_by=holder)

    hold_release(hold=hold, released_by=holder)
    retention_purge_run()

    assert not exists(conversation)


def test_hold_with_an_end_lapses_and_retention_resumes(holder):
    held = conversation_due_in(-DAY)
    hold_place(
        conversation=held, reason="review", until=timezone.now() + 7 * DAY, created_by=holder
    )

    with time_machine.travel(timezone.now() + 6 * DAY):
        retention_purge_run()
        assert exists(held)

    with time_machine.travel(timezone.now() + 8 * DAY):
        retention_purge_run()
        assert not exists(held)


def test_conversation_stays_held_while_any_of_its_holds_is_in_force(holder):
    held = conversation_due_in(-DAY)
    short = hold_place(conversation=held, reason="a", created_by=holder)
    hold_place(user=held.user, reason="b", created_by=holder)

    hold_release(hold=short, released_by=holder)
    retention_purge_run()

    assert exists(held)


def test_hold_is_copied_onto_the_conversation_row(holder):
    held = conversation_due_in(-DAY)
    until = timezone.now() + 30 * DAY

    hold_place(conversation=held, reason="case 42", until=until, created_by=holder)

    held.refresh_from_db()
    assert (held.hold_reason, held.hold_until) == ("case 42", until)


def test_user_hold_is_copied_onto_every_conversation_of_the_user(holder):
    user = UserFactory()
    conversations = [conversation_due_in(DAY, user=user) for _ in range(2)]

    hold_place(user=user, reason="regulator", created_by=holder)

    for conversation in conversations:
        conversation.refresh_from_db()
        assert (conversation.hold_reason, conversation.hold_until) == ("regulator", None)


def test_open_ended_hold_outranks_a_dated_one_on_the_row(holder):
    held = conversation_due_in(DAY)
    hold_place(conversation=held, reason="dated", until=timezone.now() + DAY, created_by=holder)
    hold_place(user=held.user, reason="open", created_by=holder)

    held.refresh_from_db()

    assert (held.hold_reason, held.hold_until) == ("open", None)


def test_release_clears_the_row_when_no_hold_remains(holder):
    held = conversation_due_in(DAY)
    hold = hold_place(conversation=held, reason="case", created_by=holder)

    hold_release(hold=hold, released_by=holder)

    held.refresh_from_db()
    assert (held.hold_reason, held.hold_until) == ("", None)


def test_hold_fields_set_on_the_row_alone_keep_the_conversation():
    dated = conversation_due_in(-DAY, hold_until=timezone.now() + DAY)
    open_ended = conversation_due_in(-DAY, hold_reason="set by hand")
    lapsed = conversation_due_in(-DAY, hold_reason="old", hold_until=timezone.now() - DAY)

    retention_purge_run()

    assert [exists(c) for c in (dated, open_ended, lapsed)] == [True, True, False]


def test_releasing_twice_changes_nothing(holder):
    hold = hold_place(conversation=conversation_due_in(DAY), reason="case", created_by=holder)
    first = hold_release(hold=hold, released_by=holder)

    again = hold_release(hold=hold, released_by=UserFactory())

    assert again.released_at == first.released_at
    assert again.released_by == holder


def test_hold_needs_exactly_one_target(holder):
    conversation = ConversationFactory()

    with pytest.raises(ValidationError) as both:
        hold_place(conversation=conversation, user=conversation.user, reason="x")
    with pytest.raises(ValidationError) as neither:
        hold_place(reason="x")

    assert both.value.messages == [errors.HOLD_TARGET_REQUIRED]
    assert neither.value.messages == [errors.HOLD_TARGET_REQUIRED]


def test_database_refuses_a_hold_on_both_a_conversation_and_a_user():
    conversation = ConversationFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Hold.objects.create(
            conversation=conversation,
            user=conversation.user,
            reason="x",
            created_at=timezone.now(),
        )


def test_hold_ending_in_the_past_is_refused():
    with pytest.raises(ValidationError) as refused:
        hold_place(conversation=ConversationFactory(), reason="x", until=timezone.now() - DAY)

    assert refused.value.messages == [errors.HOLD_UNTIL_IN_PAST]


def test_conversation_is_held_reads_holds_and_row_fields(holder):
    by_hold = ConversationFactory()
    hold_place(conversation=by_hold, reason="case", created_by=holder)
    by_row = ConversationFactory(hold_reason="by hand")
    free = ConversationFactory()

    assert [conversation_is_held(c) for c in (by_hold, by_row, free)] == [True, True, False]


def test_hold_str_names_the_conversation_by_number_not_title(holder):
    conversation = ConversationFactory(title="my secret plans")

    hold = hold_place(conversation=conversation, reason="case", created_by=holder)

    assert "secret" not in str(hold)
    assert f"#{conversation.pk}" in str(hold)
