"""Delivery: signed by the library, in order per user, retried, dead-lettered, replayed."""

import json
import random
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from tests.factories import UserFactory
from tests.webhooks.conftest import emit
from webhooks import delivery, errors
from webhooks.delivery import retry_delay, webhooks_dispatch
from webhooks.models import Delivery, DeliveryStatus, EventType, Subscriber, SubscriberStatus
from webhooks.services import deliveries_replay, subject_for
from webhooks.signing import secret_decrypt

pytestmark = pytest.mark.django_db


def statuses() -> list[str]:
    return list(Delivery.objects.order_by("sequence").values_list("status", flat=True))


def test_each_request_verifies_with_the_standard_webhooks_library(subscribed):
    _, secret, receiver = subscribed()
    event = emit(UserFactory())

    webhooks_dispatch()

    [(headers, body)] = receiver.requests
    payload = Webhook(secret).verify(body, headers)
    assert headers["webhook-id"] == str(event.id)
    assert payload["type"] == "consent.decided"
    assert payload["data"]["event_id"] == str(event.id)
    assert payload["data"]["subject"] == event.subject
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace(b"consent", b"c0nsent"), headers)


def test_the_secret_is_stored_encrypted_and_decrypts_to_the_one_shown(subscribed):
    _, secret, _ = subscribed()

    stored = Subscriber.objects.values_list("secret_encrypted", flat=True).get()

    assert secret.startswith("whsec_")
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert secret_decrypt(stored) == secret


def test_only_subscribed_types_are_delivered(subscribed):
    _, _, receiver = subscribed(event_types=[EventType.ACCOUNT_DELETED])
    user = UserFactory()
    emit(user, EventType.CONSENT_DECIDED)
    emit(user, EventType.ACCOUNT_DELETED)

    webhooks_dispatch()

    assert [json.loads(body)["type"] for _, body in receiver.requests] == ["account.deleted"]


def test_retry_delay_doubles_with_jitter_up_to_the_cap(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 5
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    rng = random.Random(7)

    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (6, 160), (12, 3600), (40, 3600)]:
        delays = {retry_delay(attempts, rng=rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not one fixed instant


def test_a_failed_delivery_is_retried_after_its_backoff(subscribed):
    _, _, receiver = subscribed()
    receiver.answer = (503, {}, b"down for maintenance")
    emit(UserFactory())

    webhooks_dispatch()
    first = Delivery.objects.get()
    receiver.answer = None
    webhooks_dispatch()  # not due yet: nothing is sent

    assert first.status == DeliveryStatus.FAILED
    assert first.response_status == 503
    assert first.last_error == errors.HTTP_ERROR.format(status=503)
    assert first.next_attempt_at > first.last_attempt_at
    assert receiver.requests == []
    with time_machine.travel(first.next_attempt_at + timedelta(seconds=1)):
        webhooks_dispatch()
    assert statuses() == [DeliveryStatus.DELIVERED]


def test_a_later_event_of_the_same_user_waits_for_the_earlier_one(subscribed):
    _, _, receiver = subscribed()
    user, other = UserFactory(), UserFactory()
    receiver.answer = (500, {}, b"")
    emit(user)
    webhooks_dispatch()
    receiver.answer = None

    emit(user)
    emit(other)
    webhooks_dispatch()

    sent = [json.loads(body)["data"]["subject"] for _, body in receiver.requests]
    assert sent == [subject_for(other.pk)]  # the user's second event waits behind the first
    assert statuses().count(DeliveryStatus.PENDING) == 1


def test_a_delivery_failing_past_the_window_is_dead_lettered_and_the_next_goes_on(
    subscribed, settings
):
    settings.WEBHOOKS_DEAD_LETTER_AFTER_HOURS = 72
    settings.WEBHOOKS_PAUSE_AFTER_HOURS = 1000
    _, _, receiver = subscribed()
    user = UserFactory()
    receiver.answer = (500, {}, b"")
    first = emit(user)
    webhooks_dispatch()
    second = emit(user)

    with time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)):
        webhooks_dispatch()

    dead = Delivery.objects.get(event=first)
    assert (dead.status, dead.dead_lettered_at is not None) == (DeliveryStatus.DEAD_LETTERED, True)
    # The user's next event is no longer held back by it: attempted in the same run.
    assert Delivery.objects.get(event=second).attempts == 1


def test_a_subscriber_failing_too_long_is_paused_and_the_privacy_officers_told(
    subscribed, settings, privacy_officer
):
    settings.WEBHOOKS_PAUSE_AFTER_HOURS = 24
    subscriber, _, receiver = subscribed()
    receiver.answer = (500, {}, b"")
    emit(UserFactory())
    webhooks_dispatch()

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        webhooks_dispatch()

    subscriber.refresh_from_db()
    assert subscriber.status == SubscriberStatus.PAUSED
    assert subscriber.pause_reason == errors.PAUSED_AFTER_FAILURES.format(hours=24)
    [email] = mail.outbox
    assert email.to == [privacy_officer.email]
    assert subscriber.name in email.subject


def test_a_success_ends_the_failing_streak(subscribed):
    subscriber, _, receiver = subscribed()
    receiver.answer = (500, {}, b"")
    emit(UserFactory())
    webhooks_dispatch()
    receiver.answer = None

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        webhooks_dispatch()

    subscriber.refresh_from_db()
    assert subscriber.failing_since is None


def test_a_redirect_is_refused_not_followed(subscribed):
    _, _, receiver = subscribed()
    receiver.answer = (307, {"Location": "http://10.0.0.1/internal"}, b"")
    emit(UserFactory())

    webhooks_dispatch()

    failed = Delivery.objects.get()
    assert failed.status == DeliveryStatus.FAILED
    assert failed.response_status == 307
    assert failed.last_error.startswith("Redirect refused: the endpoint answered 307")
    assert "http://10.0.0.1/internal" in failed.last_error


def test_only_a_short_excerpt_of_the_answer_is_kept(subscribed):
    _, _, receiver = subscribed()
    receiver.answer = (500, {}, b"x" * 100_000)
    emit(UserFactory())

    webhooks_dispatch()

    assert Delivery.objects.get().response_excerpt == "x" * 256


def test_a_replay_sends_again_and_the_receiver_handles_it_once(subscribed):
    _, _, receiver = subscribed()
    emit(UserFactory())
    webhooks_dispatch()

    replayed = deliveries_replay(deliveries=Delivery.objects.all())
    webhooks_dispatch()

    assert replayed == 1
    assert len(receiver.requests) == 2
    assert len(receiver.inbox.seen) == 1
    assert receiver.inbox.duplicates == 1
    assert statuses() == [DeliveryStatus.DELIVERED]


def test_a_killed_workers_lease_runs_out_and_another_worker_delivers(subscribed, settings):
    settings.WEBHOOKS_LEASE_SECONDS = 60
    subscriber, _, receiver = subscribed()
    emit(UserFactory())
    delivery.events_relay()
    # A worker leased the lane, then died before recording anything.
    _, leased = delivery._lanes_lease(subscriber, now=timezone.now(), batch_size=10)
    assert len(leased) == 1

    webhooks_dispatch()
    assert receiver.requests == []  # still leased
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        webhooks_dispatch()

    assert statuses() == [DeliveryStatus.DELIVERED]


def test_a_paused_subscriber_gets_nothing_and_loses_nothing(subscribed):
    from webhooks.services import subscriber_pause, subscriber_resume

    subscriber, _, receiver = subscribed()
    subscriber_pause(subscriber=subscriber)
    emit(UserFactory())

    webhooks_dispatch()
    assert receiver.requests == []
    subscriber_resume(subscriber=subscriber)
    webhooks_dispatch()

    assert statuses() == [DeliveryStatus.DELIVERED]


def test_a_refused_enqueue_is_logged_and_the_sweep_delivers(
    subscribed, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction
    from kombu.exceptions import OperationalError

    from webhooks import tasks
    from webhooks.services import event_record

    _, _, receiver = subscribed()

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.webhooks_dispatch, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_record(type=EventType.CONSENT_DECIDED, user_id=UserFactory().pk, record_id="r")
    assert receiver.requests == []

    tasks.webhooks_sweep()

    assert statuses() == [DeliveryStatus.DELIVERED]
