"""Pausing keeps a subscriber's deliveries waiting; resuming and replaying send them in order."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.webhooks.conftest import emit
from webhooks.delivery import webhooks_dispatch
from webhooks.models import Delivery, DeliveryStatus, Event, EventType, SubscriberStatus
from webhooks.services import (
    deliveries_replay,
    events_replay,
    subject_for,
    subscriber_pause,
    subscriber_resume,
)

pytestmark = pytest.mark.django_db


def _sent(receiver) -> list[tuple[str, int]]:
    """(subject, sequence) of every request the receiver got, in arrival order."""
    payloads = [json.loads(body)["data"] for _, body in receiver.requests]
    return [(data["subject"], data["sequence"]) for data in payloads]


def _of(sent: list[tuple[str, int]], user) -> list[int]:
    return [sequence for subject, sequence in sent if subject == subject_for(user.pk)]


# --- Pause and resume -------------------------------------------------------------------


def test_a_paused_subscriber_keeps_every_delivery_waiting_while_others_are_served(subscribed):
    paused, _, paused_receiver = subscribed()
    _, _, active_receiver = subscribed(name="support-desk")
    at = timezone.now()

    subscriber_pause(subscriber=paused, reason="Warehouse migration " + "x" * 400, now=at)
    user = UserFactory()
    emit(user)
    emit(user)
    webhooks_dispatch()
    webhooks_dispatch()

    paused.refresh_from_db()
    assert (paused.status, paused.paused_at) == (SubscriberStatus.PAUSED, at)
    assert paused.pause_reason.startswith("Warehouse migration") and len(paused.pause_reason) == 300
    assert paused_receiver.requests == []
    waiting = Delivery.objects.filter(subscriber=paused)
    assert [(d.status, d.attempts) for d in waiting] == [(DeliveryStatus.PENDING, 0)] * 2
    assert len(active_receiver.requests) == 2


def test_resume_sends_what_waited_in_each_users_order_and_clears_the_pause(subscribed):
    subscriber, _, receiver = subscribed()
    subscriber_pause(subscriber=subscriber, reason="maintenance")
    first, second = UserFactory(), UserFactory()
    for user in (first, second, first, second, first):
        emit(user)
    webhooks_dispatch()
    assert receiver.requests == []

    subscriber_resume(subscriber=subscriber)
    webhooks_dispatch()

    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.paused_at, subscriber.pause_reason) == (
        SubscriberStatus.ACTIVE,
        None,
        "",
    )
    sent = _sent(receiver)
    assert (_of(sent, first), _of(sent, second)) == ([1, 2, 3], [1, 2])
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_resume_restarts_the_dead_letter_window_for_what_was_waiting(subscribed, settings):
    settings.WEBHOOKS_DEAD_LETTER_AFTER_HOURS = 72
    settings.WEBHOOKS_PAUSE_AFTER_HOURS = 1000
    subscriber, _, receiver = subscribed()
    receiver.answer = (503, {}, b"")
    emit(UserFactory())
    webhooks_dispatch()  # the first failed attempt
    subscriber_pause(subscriber=subscriber)

    with time_machine.travel(timezone.now() + timedelta(hours=100)):
        subscriber_resume(subscriber=subscriber)
        webhooks_dispatch()  # still failing, but the window counts from the resume

    retried = Delivery.objects.get()
    assert (retried.status, retried.attempts) == (DeliveryStatus.FAILED, 2)
    assert retried.dead_lettered_at is None


def test_resume_asks_for_delivery_once_it_commits(subscribed, django_capture_on_commit_callbacks):
    subscriber, _, receiver = subscribed()
    subscriber_pause(subscriber=subscriber)
    emit(UserFactory())
    webhooks_dispatch()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        subscriber_resume(subscriber=subscriber)

    assert len(callbacks) == 1
    assert len(receiver.requests) == 1  # sent by the enqueued dispatch, not by the test


# --- Replay -------------------------------------------------------------------------------


def test_replaying_an_event_reaches_a_subscriber_registered_after_it(subscribed):
    _, _, early = subscribed(name="warehouse")
    event = emit(UserFactory())
    webhooks_dispatch()
    late_subscriber, _, late = subscribed(name="support-desk")
    webhooks_dispatch()
    assert late.requests == []  # registration alone does not reach back

    reopened = events_replay(events=Event.objects.all())
    webhooks_dispatch()

    assert reopened == 2
    assert [headers["webhook-id"] for headers, _ in late.requests] == [str(event.id)]
    assert Delivery.objects.get(subscriber=late_subscriber).status == DeliveryStatus.DELIVERED
    # The early subscriber got it again and dropped the duplicate by webhook-id.
    assert (len(early.inbox.seen), early.inbox.duplicates) == (1, 1)


def test_replayed_events_go_out_in_the_users_order_whatever_order_they_were_chosen_in(
    subscribed,
):
    user = UserFactory()
    for _ in range(3):
        emit(user)
    webhooks_dispatch()
    _, _, late = subscribed(name="support-desk")

    events_replay(events=Event.objects.order_by("-sequence"))
    webhooks_dispatch()

    assert _of(_sent(late), user) == [1, 2, 3]


def test_a_replay_to_chosen_subscribers_leaves_the_others_alone(subscribed):
    _, _, left_alone = subscribed(name="warehouse")
    chosen_subscriber, _, chosen = subscribed(name="support-desk")
    emit(UserFactory())
    webhooks_dispatch()

    reopened = events_replay(events=Event.objects.all(), subscribers=[chosen_subscriber])
    webhooks_dispatch()

    assert reopened == 1
    assert (len(left_alone.requests), len(chosen.requests)) == (1, 2)


def test_a_replay_creates_nothing_for_a_subscriber_that_does_not_want_the_type(subscribed):
    emit(UserFactory(), EventType.CONSENT_DECIDED)
    webhooks_dispatch()
    uninterested, _, receiver = subscribed(event_types=[EventType.ACCOUNT_DELETED])

    reopened = events_replay(events=Event.objects.all())
    webhooks_dispatch()

    assert reopened == 0
    assert not Delivery.objects.filter(subscriber=uninterested).exists()
    assert receiver.requests == []


def test_replaying_an_event_reopens_its_dead_lettered_delivery(subscribed, settings):
    settings.WEBHOOKS_DEAD_LETTER_AFTER_HOURS = 1
    settings.WEBHOOKS_PAUSE_AFTER_HOURS = 1000
    _, _, receiver = subscribed()
    receiver.answer = (500, {}, b"")
    event = emit(UserFactory())
    webhooks_dispatch()
    later = timezone.now() + timedelta(hours=2)
    with time_machine.travel(later):
        webhooks_dispatch()
    assert Delivery.objects.get().status == DeliveryStatus.DEAD_LETTERED
    receiver.answer = None

    with time_machine.travel(later + timedelta(minutes=1)):
        events_replay(events=[event])
        webhooks_dispatch()

    replayed = Delivery.objects.get()
    assert (replayed.status, replayed.dead_lettered_at) == (DeliveryStatus.DELIVERED, None)
    assert receiver.inbox.seen == {str(event.id)}


def test_a_replay_for_later_waits_until_then(subscribed):
    _, _, receiver = subscribed()
    emit(UserFactory())
    webhooks_dispatch()
    at = timezone.now() + timedelta(hours=1)

    deliveries_replay(deliveries=Delivery.objects.all(), now=at)
    webhooks_dispatch()
    assert len(receiver.requests) == 1  # not due yet
    with time_machine.travel(at + timedelta(seconds=1)):
        webhooks_dispatch()

    assert len(receiver.requests) == 2


def test_a_replay_asks_for_delivery_once_it_commits(subscribed, django_capture_on_commit_callbacks):
    emit(UserFactory())
    webhooks_dispatch()
    _, _, late = subscribed(name="support-desk")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events_replay(events=Event.objects.all())

    assert len(callbacks) == 1
    assert len(late.requests) == 1  # sent by the enqueued dispatch, not by the test


def test_the_privacy_officer_replays_an_event_to_a_system_added_later(
    client, subscribed, privacy_officer
):
    event = emit(UserFactory())
    webhooks_dispatch()
    _, _, late = subscribed(name="support-desk")
    client.force_login(privacy_officer)

    response = client.post(
        reverse("admin:webhooks_event_changelist"),
        {"action": "replay", "_selected_action": [str(event.pk)]},
        follow=True,
    )
    webhooks_dispatch()

    [message] = list(response.context["messages"])
    assert message.message == "1 deliveries will be sent again."
    assert [headers["webhook-id"] for headers, _ in late.requests] == [str(event.id)]
