"""Rotating a subscriber's signing secret: shown once, stored encrypted, used from the next send."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.contrib import messages
from django.urls import reverse
from standardwebhooks import Webhook, WebhookVerificationError

from tests.factories import UserFactory
from tests.webhooks.conftest import emit
from webhooks.delivery import webhooks_dispatch
from webhooks.models import Delivery, DeliveryStatus, Subscriber
from webhooks.services import subscriber_secret_rotate
from webhooks.signing import secret_decrypt

pytestmark = pytest.mark.django_db


def _stored_secret(subscriber: Subscriber) -> str:
    return secret_decrypt(Subscriber.objects.get(pk=subscriber.pk).secret_encrypted)


def test_rotation_returns_a_fresh_secret_that_is_stored_only_encrypted(subscribed, caplog):
    subscriber, old, _ = subscribed()
    other, other_secret, _ = subscribed(name="support-desk")

    with caplog.at_level(logging.INFO, logger="webhooks.services"):
        new = subscriber_secret_rotate(subscriber=subscriber)

    stored = Subscriber.objects.values_list("secret_encrypted", flat=True).get(pk=subscriber.pk)
    assert new.startswith("whsec_") and new != old
    assert new not in stored and new.removeprefix("whsec_") not in stored
    assert secret_decrypt(stored) == new
    assert _stored_secret(other) == other_secret  # only the chosen subscriber rotates
    [logged] = [r for r in caplog.records if r.getMessage() == "webhook secret rotated"]
    assert logged.subscriber_id == subscriber.pk
    assert new not in caplog.text  # the secret itself is never logged


def test_after_rotation_deliveries_verify_with_the_new_secret_and_not_the_old_one(subscribed):
    subscriber, old, stale_receiver = subscribed()
    new = subscriber_secret_rotate(subscriber=subscriber)
    event = emit(UserFactory())

    webhooks_dispatch()

    [(headers, body)] = stale_receiver.requests
    assert Webhook(new).verify(body, headers)["data"]["event_id"] == str(event.id)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    # A receiver still holding the old secret refuses it; the delivery is retried, not lost.
    refused = Delivery.objects.get()
    assert (refused.status, refused.response_status) == (DeliveryStatus.FAILED, 401)


def test_a_delivery_waiting_from_before_the_rotation_goes_out_signed_with_the_new_secret(
    subscribed, start_receiver
):
    subscriber, old, stale_receiver = subscribed()
    stale_receiver.answer = (503, {}, b"")
    emit(UserFactory())
    webhooks_dispatch()
    new = subscriber_secret_rotate(subscriber=subscriber)
    updated_receiver = start_receiver(new)
    Subscriber.objects.filter(pk=subscriber.pk).update(url=updated_receiver.url)
    waiting = Delivery.objects.get()

    with time_machine.travel(waiting.next_attempt_at + timedelta(seconds=1)):
        webhooks_dispatch()

    [(headers, body)] = updated_receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_privacy_officer_rotates_a_secret_in_admin_and_sees_it_once(
    client, subscribed, privacy_officer
):
    subscriber, old, _ = subscribed()
    client.force_login(privacy_officer)

    response = client.post(
        reverse("admin:webhooks_subscriber_changelist"),
        {"action": "rotate_secret", "_selected_action": [subscriber.pk]},
    )

    new = _stored_secret(subscriber)
    assert response.status_code == 200
    assert new != old
    assert new in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    change_page = client.get(reverse("admin:webhooks_subscriber_change", args=[subscriber.pk]))
    assert new not in change_page.content.decode()


def test_rotating_several_subscribers_at_once_is_refused_and_changes_no_secret(
    client, subscribed, privacy_officer
):
    first, first_secret, _ = subscribed()
    second, second_secret, _ = subscribed(name="support-desk")
    client.force_login(privacy_officer)

    response = client.post(
        reverse("admin:webhooks_subscriber_changelist"),
        {"action": "rotate_secret", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    [message] = list(response.context["messages"])
    assert (message.message, message.level) == ("Select exactly one subscriber.", messages.ERROR)
    assert (_stored_secret(first), _stored_secret(second)) == (first_secret, second_secret)
