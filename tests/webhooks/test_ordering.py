"""Per-user order holds for every subscriber whatever the interleaving and the failures."""

import json
import random
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from tests.webhooks.conftest import emit
from webhooks.delivery import webhooks_dispatch
from webhooks.models import Delivery, DeliveryStatus, Event, SubjectSequence

pytestmark = pytest.mark.django_db


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("emit"), st.integers(0, 2)),
            st.tuples(st.just("dispatch"), st.just(0)),
        ),
        min_size=1,
        max_size=25,
    ),
    failure_rate=st.sampled_from([0.0, 0.3, 0.7]),
    seed=st.integers(0, 2**16),
)
def test_every_event_arrives_once_in_each_users_order(subscribed_once, steps, failure_rate, seed):
    receiver = subscribed_once
    Delivery.objects.all().delete()
    Event.objects.all().delete()
    SubjectSequence.objects.all().delete()
    receiver.requests.clear()
    receiver.inbox.seen.clear()
    rng = random.Random(seed)
    receiver.fails = lambda: rng.random() < failure_rate
    users = [UserFactory() for _ in range(3)]
    now = timezone.now()

    with time_machine.travel(now, tick=False) as clock:
        for action, who in steps:
            if action == "emit":
                emit(users[who])
            else:
                webhooks_dispatch()
            clock.shift(timedelta(seconds=1))
        receiver.fails = None
        for _ in range(30):  # recovery: every retry comes due within the cap
            if not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists() and (
                not Event.objects.filter(fanned_out_at__isnull=True).exists()
            ):
                break
            webhooks_dispatch()
            clock.shift(timedelta(hours=1, seconds=1))

    handled: dict[str, list[int]] = {}
    for _, body in receiver.requests:
        data = json.loads(body)["data"]
        handled.setdefault(data["subject"], []).append(data["sequence"])
    emitted = {}
    for event in Event.objects.order_by("sequence"):
        emitted.setdefault(event.subject, []).append(event.sequence)
    # Each user's events reached the receiver in sequence order, each exactly once.
    assert handled == emitted
    assert len(receiver.inbox.seen) == Event.objects.count()


@pytest.fixture
def subscribed_once(subscribed, settings):
    settings.WEBHOOKS_DELIVERY_THREADS = 1
    _, _, receiver = subscribed()
    return receiver


def test_concurrent_lanes_keep_each_users_order(subscribed, settings):
    settings.WEBHOOKS_DELIVERY_THREADS = 8
    _, _, receiver = subscribed()
    users = [UserFactory() for _ in range(12)]
    for round_ in range(5):
        for user in users:
            emit(user, record_id=f"{user.pk}-{round_}")

    webhooks_dispatch()

    handled: dict[str, list[int]] = {}
    for _, body in receiver.requests:
        data = json.loads(body)["data"]
        handled.setdefault(data["subject"], []).append(data["sequence"])
    assert sorted(handled.values()) == [[1, 2, 3, 4, 5]] * 12
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
