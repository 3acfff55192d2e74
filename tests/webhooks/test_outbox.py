"""Every reported change writes its outbox event in its own transaction: both or neither."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from consent.models import Choice, ConsentRecord, Lockout
from consent.services import lockouts_record
from conversations.models import Conversation
from conversations.services import conversation_delete, conversation_start
from retention.models import Hold
from retention.services import hold_place, hold_release, retention_purge_run
from tests.factories import ConversationFactory, UserFactory
from tests.webhooks.conftest import events_of
from training.data_rights import user_account_delete
from training.services import training_snapshot_export
from webhooks.models import Event, EventType
from webhooks.services import subject_for

pytestmark = pytest.mark.django_db


class Abort(Exception):
    """Raised inside a change's transaction to roll it back."""


def rolled_back(change):
    with pytest.raises(Abort), transaction.atomic():
        change()
        raise Abort


def test_a_decision_writes_one_event_naming_its_record(decide):
    user = UserFactory()

    record = decide(user, Choice.OPT_IN)

    [event] = events_of(EventType.CONSENT_DECIDED)
    assert (event.record_id, event.record_uuid) == (str(record.pk), record.pk)
    assert event.subject == subject_for(user.pk) != str(user.pk)
    assert event.data["choice"] == Choice.OPT_IN
    assert event.data["previous_choice"] is None
    assert event.occurred_at == record.decided_at


def test_a_withdrawal_says_what_it_withdrew(decide):
    user = UserFactory()
    decide(user, Choice.OPT_IN)

    decide(user, Choice.OPT_OUT)

    first, second = events_of(EventType.CONSENT_DECIDED)
    assert (second.data["choice"], second.data["previous_choice"]) == ("opt_out", "opt_in")
    assert (first.sequence, second.sequence) == (1, 2)


def test_a_rolled_back_decision_leaves_no_event(decide):
    user = UserFactory()

    rolled_back(lambda: decide(user, Choice.OPT_OUT))

    assert not ConsentRecord.objects.exists()
    assert not Event.objects.exists()


def test_a_lockout_writes_one_event_and_a_rerun_none(policy):
    user = UserFactory(date_joined=policy.effective_at - timedelta(days=5))

    with time_machine.travel(policy.decision_deadline + timedelta(minutes=5)):
        lockouts_record()
        lockouts_record()

    [event] = events_of(EventType.CONSENT_LOCKOUT)
    lockout = Lockout.objects.get()
    assert (event.record_id, event.subject) == (str(lockout.pk), subject_for(user.pk))
    assert event.data["policy_version"] == policy.version


def test_a_rolled_back_lockout_leaves_no_event(policy):
    UserFactory(date_joined=policy.effective_at - timedelta(days=5))

    with time_machine.travel(policy.decision_deadline + timedelta(minutes=5)):
        rolled_back(lockouts_record)

    assert not Lockout.objects.exists()
    assert not Event.objects.exists()


def test_deleting_a_conversation_writes_one_event():
    conversation = ConversationFactory()

    conversation_delete(conversation=conversation)

    [event] = events_of(EventType.CONVERSATION_DELETED)
    assert event.record_id == str(conversation.pk)
    assert event.data == {"reason": "user", "held": False}


def test_deleting_a_held_conversation_is_reported_as_held():
    conversation = ConversationFactory()
    hold_place(reason="litigation", conversation=conversation)

    conversation_delete(conversation=conversation)

    [event] = events_of(EventType.CONVERSATION_DELETED)
    assert event.data == {"reason": "user", "held": True}


def test_a_rolled_back_conversation_delete_leaves_no_event():
    conversation = ConversationFactory()

    rolled_back(lambda: conversation_delete(conversation=conversation))

    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Event.objects.exists()


def test_the_purge_reports_each_deleted_conversation_once():
    old = timezone.now() - timedelta(days=40)
    due = ConversationFactory(last_activity_at=old, created_at=old)
    kept = ConversationFactory()

    retention_purge_run()
    retention_purge_run()

    [event] = events_of(EventType.CONVERSATION_DELETED)
    assert event.record_id == str(due.pk) != str(kept.pk)
    assert event.data == {"reason": "retention", "held": False}


def test_one_purge_batch_reports_each_of_a_persons_conversations_in_sequence():
    old = timezone.now() - timedelta(days=40)
    owner = UserFactory()
    due = [ConversationFactory(user=owner, last_activity_at=old, created_at=old) for _ in range(3)]

    retention_purge_run()  # one batch: three events for one person, written together

    events = events_of(EventType.CONVERSATION_DELETED, subject=subject_for(owner.pk))
    assert sorted(e.record_id for e in events) == sorted(str(c.pk) for c in due)
    first = events[0].sequence
    assert [e.sequence for e in events] == [first, first + 1, first + 2]


def test_a_rolled_back_purge_leaves_no_event():
    old = timezone.now() - timedelta(days=40)
    due = ConversationFactory(last_activity_at=old, created_at=old)

    rolled_back(retention_purge_run)

    assert Conversation.objects.filter(pk=due.pk).exists()
    assert not Event.objects.exists()


def test_deleting_an_account_writes_one_event_naming_only_the_pseudonym():
    user = UserFactory()
    ConversationFactory(user=user)

    user_account_delete(user=user)

    [event] = events_of(EventType.ACCOUNT_DELETED)
    assert event.record_id == event.subject == subject_for(user.pk)
    assert event.data == {"conversations_deleted": 1, "conversations_held": 0}


def test_a_rolled_back_account_deletion_leaves_no_event():
    user = UserFactory()

    rolled_back(lambda: user_account_delete(user=user))

    user.refresh_from_db()
    assert user.is_active
    assert not Event.objects.exists()


def test_placing_and_releasing_a_hold_write_one_event_each():
    user = UserFactory()

    hold = hold_place(reason="litigation", user=user)
    hold_release(hold=hold)
    hold_release(hold=hold)

    [placed] = events_of(EventType.HOLD_PLACED)
    [released] = events_of(EventType.HOLD_RELEASED)
    assert placed.record_id == released.record_id == str(hold.pk)
    assert placed.data["scope"] == "account"
    assert "litigation" not in str(placed.data)  # the reason stays with the legal team
    assert released.sequence == placed.sequence + 1


def test_a_rolled_back_hold_leaves_no_event():
    user = UserFactory()

    rolled_back(lambda: hold_place(reason="litigation", user=user))

    assert not Hold.objects.exists()
    assert not Event.objects.exists()


def test_each_users_events_are_numbered_in_commit_order(decide):
    user, other = UserFactory(), UserFactory()
    conversation = ConversationFactory(user=user)

    decide(user, Choice.OPT_IN)
    decide(other, Choice.OPT_IN)
    conversation_delete(conversation=conversation)
    decide(user, Choice.OPT_OUT)

    mine = Event.objects.filter(subject=subject_for(user.pk)).order_by("sequence")
    assert [(e.type, e.sequence) for e in mine] == [
        ("consent.decided", 1),
        ("conversation.deleted", 2),
        ("consent.decided", 3),
    ]
    assert Event.objects.get(subject=subject_for(other.pk)).sequence == 1


def test_a_training_snapshot_tells_each_person_in_it(decide, clock, tmp_path):
    inside, outside = UserFactory(), UserFactory()
    decide(inside, Choice.OPT_IN)
    decide(outside, Choice.OPT_OUT)
    clock.shift(timedelta(seconds=1))
    conversation_start(user=inside, text="How do I bake bread?")
    conversation_start(user=outside, text="How do I bake bread?")
    clock.shift(timedelta(seconds=1))

    snapshot = training_snapshot_export(out_path=tmp_path / "snapshot.jsonl")

    [event] = events_of(EventType.SNAPSHOT_CREATED)
    assert (event.record_id, event.subject) == (str(snapshot.pk), subject_for(inside.pk))
    assert event.data["conversations"] == 1
