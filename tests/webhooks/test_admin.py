"""Admin: the secret shown once, each record's per-system status, the not-acknowledged filter."""

import pytest
from django.urls import reverse

from consent.models import Choice, ConsentRecord
from tests.factories import UserFactory
from webhooks.delivery import webhooks_dispatch
from webhooks.models import Subscriber
from webhooks.signing import secret_decrypt

pytestmark = pytest.mark.django_db


def test_adding_a_subscriber_shows_its_secret_once_and_never_caches_it(
    client, privacy_officer, start_receiver
):
    client.force_login(privacy_officer)

    response = client.post(
        reverse("admin:webhooks_subscriber_add"),
        {
            "name": "warehouse",
            "url": "http://127.0.0.1:8765/hooks",
            "event_types": ["consent.decided", "account.deleted"],
            "status": "active",
        },
    )

    subscriber = Subscriber.objects.get()
    secret = secret_decrypt(subscriber.secret_encrypted)
    assert response.status_code == 200
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert subscriber.event_types == ["account.deleted", "consent.decided"]
    assert subscriber.created_by == privacy_officer
    change_page = client.get(reverse("admin:webhooks_subscriber_change", args=[subscriber.pk]))
    assert secret not in change_page.content.decode()


def test_a_subscriber_that_was_delivered_to_cannot_be_deleted(client, subscribed, decide):
    from django.contrib.auth import get_user_model

    subscriber, _, _ = subscribed()
    decide(UserFactory(), Choice.OPT_IN)
    webhooks_dispatch()
    admin = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(admin)

    response = client.get(reverse("admin:webhooks_subscriber_delete", args=[subscriber.pk]))

    assert response.status_code == 403


def test_a_records_admin_page_shows_where_it_reached(client, subscribed, decide, privacy_officer):
    subscribed(name="warehouse")
    _, _, down = subscribed(name="support-desk")
    down.answer = (503, {}, b"")
    record = decide(UserFactory(), Choice.OPT_OUT)
    webhooks_dispatch()
    client.force_login(privacy_officer)

    page = client.get(
        reverse("admin:consent_consentrecord_change", args=[record.pk])
    ).content.decode()

    assert "<strong>warehouse</strong>: delivered" in page
    assert "HTTP 200" in page
    assert "<strong>support-desk</strong>: failed, retrying 1 attempts" in page


def test_the_list_filter_finds_records_a_system_has_not_acknowledged(
    client, subscribed, decide, privacy_officer
):
    subscriber, _, receiver = subscribed(name="warehouse")
    acknowledged = decide(UserFactory(), Choice.OPT_IN)
    webhooks_dispatch()
    receiver.answer = (500, {}, b"")
    waiting = decide(UserFactory(), Choice.OPT_OUT)
    webhooks_dispatch()
    client.force_login(privacy_officer)

    response = client.get(
        reverse("admin:consent_consentrecord_changelist"),
        {"not_acknowledged_by": subscriber.pk},
    )

    listed = set(response.context["cl"].result_list.values_list("pk", flat=True))
    assert listed == {waiting.pk}
    assert acknowledged.pk in set(ConsentRecord.objects.values_list("pk", flat=True))


def test_support_cannot_see_subscribers(client):
    from django.contrib.auth.models import Group

    from accounts.roles import SUPPORT

    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    client.force_login(support)

    assert client.get(reverse("admin:webhooks_subscriber_changelist")).status_code == 403
    assert client.get(reverse("admin:webhooks_delivery_changelist")).status_code == 403


def test_the_privacy_officer_replays_a_range_of_deliveries(
    client, subscribed, decide, privacy_officer
):
    _, _, receiver = subscribed()
    decide(UserFactory(), Choice.OPT_IN)
    decide(UserFactory(), Choice.OPT_OUT)
    webhooks_dispatch()
    client.force_login(privacy_officer)
    from webhooks.models import Delivery

    client.post(
        reverse("admin:webhooks_delivery_changelist"),
        {
            "action": "replay",
            "_selected_action": list(Delivery.objects.values_list("pk", flat=True)),
        },
    )
    webhooks_dispatch()

    assert len(receiver.requests) == 4
    assert len(receiver.inbox.seen) == 2
