"""Evidence bundles say, per record, where its consent.decided event reached each downstream
system (issue 16): delivered (when, HTTP code), pending, failed, dead-lettered, or never told
because the record predates webhooks; with the webhook-id a receiver's logs are matched on."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from consent.bundles import NO_EVENT_NOTE
from consent.models import Choice, ConsentRecord
from tests.factories import UserFactory, settings_decision
from tests.webhooks import conftest as webhook_fixtures
from webhooks.delivery import webhooks_dispatch
from webhooks.models import Event, EventType
from webhooks.selectors import records_propagation

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db

# The webhooks tests' local receiver and subscribers, used here by name.
start_receiver = webhook_fixtures.start_receiver
subscribed = webhook_fixtures.subscribed
privacy_officer = webhook_fixtures.privacy_officer


@pytest.fixture
def policy(db):
    return PolicyFactory(effective_at=timezone.now() - timedelta(days=10))


def _decide(user, policy, choice: str = Choice.OPT_IN) -> ConsentRecord:
    return settings_decision(user, policy, choice)


def _bundle(tmp_path: Path, user) -> tuple[zipfile.ZipFile, str]:
    out = tmp_path / "bundle.zip"
    stdout = io.StringIO()
    call_command(
        "evidence_bundle", "--user", str(user.pk), "--out", str(out), "--no-progress", stdout=stdout
    )
    return zipfile.ZipFile(out), stdout.getvalue()


def _deliveries(archive: zipfile.ZipFile, record: ConsentRecord) -> dict:
    return json.loads(archive.read(f"people/{record.user_id}/deliveries/{record.pk}.json"))


def test_delivered_and_failed_systems_are_shown_with_code_time_and_webhook_id(
    subscribed, policy, tmp_path
):
    warehouse, _, receiver = subscribed(name="warehouse")
    support_desk, _, down = subscribed(name="support-desk")
    down.answer = (503, {}, b"")
    subscribed(name="account-closer", event_types=[EventType.ACCOUNT_DELETED])
    user = UserFactory()
    record = _decide(user, policy)
    webhooks_dispatch()

    archive, _ = _bundle(tmp_path, user)
    status = _deliveries(archive, record)

    event = Event.objects.get(type=EventType.CONSENT_DECIDED, record_id=str(record.pk))
    [(headers, _)] = receiver.requests
    assert status["webhook_id"] == str(event.pk) == headers["webhook-id"]
    assert status["no_event"] is None
    # Only the systems that take consent.decided, keyed by name.
    assert set(status["subscribers"]) == {"warehouse", "support-desk"}
    delivered = status["subscribers"]["warehouse"]
    assert delivered["subscriber_id"] == warehouse.pk
    assert delivered["status"] == "delivered"
    assert delivered["response_status"] == 200
    assert delivered["webhook_id"] == headers["webhook-id"]
    assert delivered["delivered_at"] is not None
    failed = status["subscribers"]["support-desk"]
    assert failed["subscriber_id"] == support_desk.pk
    assert (failed["status"], failed["attempts"], failed["last_response_status"]) == (
        "failed",
        1,
        503,
    )
    assert failed["next_attempt_at"] is not None
    # The new file is under the manifest's digests like every other.
    manifest = json.loads(archive.read("manifest.json"))
    name = f"people/{user.pk}/deliveries/{record.pk}.json"
    assert manifest["files_sha256"][name] == hashlib.sha256(archive.read(name)).hexdigest()
    assert "people/<user id>/deliveries/<record id>.json" in archive.read("README.md").decode()


def test_an_event_not_yet_relayed_is_pending_with_its_webhook_id(subscribed, policy, tmp_path):
    subscriber, _, receiver = subscribed(name="warehouse")
    user = UserFactory()
    record = _decide(user, policy)

    archive, _ = _bundle(tmp_path, user)
    status = _deliveries(archive, record)

    event = Event.objects.get(type=EventType.CONSENT_DECIDED, record_id=str(record.pk))
    assert receiver.requests == []
    assert status["subscribers"] == {
        "warehouse": {
            "subscriber_id": subscriber.pk,
            "subscriber_name": "warehouse",
            "status": "pending",
            "webhook_id": str(event.pk),
        }
    }


def test_a_delivery_failing_past_the_window_is_dead_lettered_with_its_time(
    subscribed, policy, tmp_path, settings
):
    settings.WEBHOOKS_DEAD_LETTER_AFTER_HOURS = 72
    settings.WEBHOOKS_PAUSE_AFTER_HOURS = 1000
    _, _, receiver = subscribed(name="warehouse")
    receiver.answer = (500, {}, b"")
    user = UserFactory()
    record = _decide(user, policy)
    webhooks_dispatch()
    later = timezone.now() + timedelta(hours=72, seconds=1)
    with time_machine.travel(later, tick=False):
        webhooks_dispatch()

    archive, _ = _bundle(tmp_path, user)
    dead = _deliveries(archive, record)["subscribers"]["warehouse"]

    assert dead["status"] == "dead_lettered"
    assert dead["dead_lettered_at"] == later.isoformat()
    assert (dead["attempts"], dead["last_response_status"]) == (2, 500)


def test_a_record_made_before_webhooks_says_no_system_was_told(subscribed, policy, tmp_path):
    user = UserFactory()
    record = _decide(user, policy)
    # Before the outbox existed a decision wrote no event; the system came later.
    Event.objects.filter(record_id=str(record.pk)).delete()
    subscriber, _, receiver = subscribed(name="warehouse")
    webhooks_dispatch()

    archive, printed = _bundle(tmp_path, user)
    status = _deliveries(archive, record)

    assert receiver.requests == []
    assert status["webhook_id"] is None
    assert status["no_event"] == NO_EVENT_NOTE
    assert status["subscribers"] == {
        "warehouse": {
            "subscriber_id": subscriber.pk,
            "subscriber_name": "warehouse",
            "status": "no_event",
            "webhook_id": None,
        }
    }
    assert "1 records made before webhooks (no system told)" in printed


def test_the_records_admin_page_says_a_pre_webhooks_record_was_never_told(
    client, subscribed, policy, privacy_officer
):
    record = _decide(UserFactory(), policy)
    Event.objects.filter(record_id=str(record.pk)).delete()
    subscribed(name="warehouse")
    client.force_login(privacy_officer)

    page = client.get(reverse("admin:consent_consentrecord_change", args=[record.pk]))

    assert (
        "<strong>warehouse</strong>: never told (recorded before webhooks existed)"
        in page.content.decode()
    )


def test_a_system_added_after_the_event_went_out_is_not_listed(subscribed, policy, tmp_path):
    subscribed(name="warehouse")
    user = UserFactory()
    record = _decide(user, policy)
    webhooks_dispatch()
    subscribed(name="late-comer")

    archive, _ = _bundle(tmp_path, user)

    # It never wanted this event (it did not exist): not "pending" forever.
    assert set(_deliveries(archive, record)["subscribers"]) == {"warehouse"}


def test_statuses_of_many_records_cost_three_queries_per_500(
    subscribed, policy, django_assert_num_queries
):
    subscribed(name="warehouse")
    records = [_decide(UserFactory(), policy) for _ in range(3)]
    webhooks_dispatch()
    # The real records sit on both sides of a 500-id boundary.
    ids = [
        str(records[0].pk),
        *(f"unknown-{n}" for n in range(499)),
        *(str(r.pk) for r in records[1:]),
    ]

    with django_assert_num_queries(1 + 2 * 2):
        statuses = records_propagation(event_type=EventType.CONSENT_DECIDED, record_ids=ids)

    for record in records:
        [row] = statuses[str(record.pk)].rows
        assert (row.status, row.response_status) == ("delivered", 200)
    assert statuses["unknown-0"].event_ids == []
