"""event_inserts: an outbox event as statements sent with the caller's other writes, numbered
in the same sequence as events_record's, written once, delivered after commit."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from config.statements import statements_run
from tests.factories import UserFactory
from webhooks.models import Event, EventType, SubjectSequence
from webhooks.payloads import SCHEMA_VERSION
from webhooks.services import EventDraft, event_inserts, events_record, subject_for

pytestmark = pytest.mark.django_db


class Abort(Exception):
    """Raised inside a transaction to roll it back."""


def draft_for(user, record_id=None, **fields) -> EventDraft:
    return EventDraft(
        type=fields.pop("type", EventType.CONSENT_DECIDED),
        user_id=user.pk,
        record_id=record_id or uuid.uuid4().hex,
        **fields,
    )


def insert_event(draft: EventDraft) -> None:
    """The event written through event_inserts, in a transaction of its own."""
    with transaction.atomic():
        statements_run(event_inserts(draft))


def record_event(draft: EventDraft) -> None:
    """The event written through events_record."""
    events_record(drafts=[draft])


def sequences_of(user) -> list[int]:
    return list(
        Event.objects.filter(subject=subject_for(user.pk))
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )


# --- Only inside the caller's transaction ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses_and_writes_nothing():
    user = UserFactory()

    with pytest.raises(TransactionManagementError):
        statements_run(event_inserts(draft_for(user)))

    assert not Event.objects.exists()
    assert not SubjectSequence.objects.exists()


# --- Numbering ----------------------------------------------------------------------------


def test_a_new_subjects_first_event_is_number_one():
    user = UserFactory()

    insert_event(draft_for(user))

    event = Event.objects.get()
    assert (event.subject, event.sequence) == (subject_for(user.pk), 1)
    assert SubjectSequence.objects.get(subject=subject_for(user.pk)).last == 1


@pytest.mark.parametrize(
    "writers",
    [
        (insert_event, record_event, insert_event),
        (record_event, insert_event, record_event),
        (insert_event, insert_event, record_event),
    ],
    ids=["inserts-first", "record-first", "inserts-twice-then-record"],
)
def test_numbering_continues_across_events_record_and_event_inserts(writers):
    user = UserFactory()

    for write in writers:
        write(draft_for(user))

    assert sequences_of(user) == [1, 2, 3]


def test_each_subject_is_numbered_on_its_own():
    alice, bob = UserFactory(), UserFactory()

    insert_event(draft_for(alice))
    insert_event(draft_for(alice))
    insert_event(draft_for(bob))
    record_event(draft_for(bob))
    insert_event(draft_for(alice))

    assert sequences_of(alice) == [1, 2, 3]
    assert sequences_of(bob) == [1, 2]


def test_several_events_sent_in_one_batch_are_numbered_in_order():
    alice, bob = UserFactory(), UserFactory()
    record_event(draft_for(alice))
    drafts = [draft_for(alice, "a-2"), draft_for(bob, "b-1"), draft_for(alice, "a-3")]

    with transaction.atomic():
        statements_run([statement for draft in drafts for statement in event_inserts(draft)])

    numbered = dict(Event.objects.values_list("record_id", "sequence"))
    assert {key: numbered[key] for key in ("a-2", "b-1", "a-3")} == {"a-2": 2, "b-1": 1, "a-3": 3}


# --- Written once -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first", [insert_event, record_event], ids=["by-event-inserts", "by-events-record"]
)
def test_a_change_reported_again_is_written_once(first):
    user = UserFactory()
    draft = draft_for(user, "record-1")
    first(draft)

    insert_event(draft)

    [event] = Event.objects.all()
    assert (event.record_id, event.sequence) == ("record-1", 1)


def test_a_change_reported_twice_in_one_batch_is_written_once():
    user = UserFactory()
    draft = draft_for(user, "record-1")

    with transaction.atomic():
        statements_run([*event_inserts(draft), *event_inserts(draft)])

    [event] = Event.objects.all()
    assert (event.record_id, event.sequence) == ("record-1", 1)


# --- Delivery after commit ----------------------------------------------------------------


def test_delivery_is_asked_for_once_the_transaction_commits(
    subscribed, django_capture_on_commit_callbacks
):
    _, _, receiver = subscribed()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        statements_run(event_inserts(draft_for(UserFactory())))
        assert receiver.requests == []  # nothing leaves before the commit

    assert len(callbacks) == 1
    assert len(receiver.requests) == 1  # sent by the enqueued dispatch, not by the test


def test_a_rolled_back_transaction_asks_for_no_delivery_and_leaves_no_event(
    subscribed, django_capture_on_commit_callbacks
):
    _, _, receiver = subscribed()
    user = UserFactory()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        statements_run(event_inserts(draft_for(user)))
        raise Abort

    assert callbacks == []
    assert receiver.requests == []
    assert not Event.objects.exists()
    assert not SubjectSequence.objects.exists()


# --- Stored fields ------------------------------------------------------------------------


def test_the_event_is_stored_as_events_record_stores_it():
    # Given the same change about two people, one written by each path
    by_record, by_inserts = UserFactory(), UserFactory()
    record_id = uuid.uuid4()
    occurred_at = datetime(2027, 3, 1, 12, 34, 56, 789012, tzinfo=ZoneInfo("Europe/Berlin"))
    data = {"choice": "opt_in", "previous_choice": None, "note": "it's; 50% ünïcødé"}

    def draft(user):
        return EventDraft(
            type=EventType.HOLD_PLACED,
            user_id=user.pk,
            record_id=record_id,
            occurred_at=occurred_at,
            data=data,
        )

    record_event(draft(by_record))
    insert_event(draft(by_inserts))

    # Then both rows hold the same fields, as given
    def stored(user):
        event = Event.objects.get(subject=subject_for(user.pk))
        return (
            event.type,
            event.record_id,
            event.record_uuid,
            event.occurred_at,
            event.data,
            event.schema_version,
            event.sequence,
            event.fanned_out_at,
        )

    expected = (
        EventType.HOLD_PLACED,
        str(record_id),
        record_id,
        occurred_at,
        data,
        SCHEMA_VERSION,
        1,
        None,
    )
    assert stored(by_inserts) == stored(by_record) == expected


def test_a_plain_record_id_has_no_uuid_and_the_time_defaults_to_now(clock):
    user = UserFactory()

    insert_event(draft_for(user, "42"))

    event = Event.objects.get()
    assert (event.record_id, event.record_uuid) == ("42", None)
    assert event.occurred_at == timezone.now()
    assert event.data == {}
