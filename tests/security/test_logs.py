"""Logs carry ids and outcomes, never what a person wrote, their email or their IP address."""

import json
import logging

import pytest
from django.conf import settings
from django.urls import reverse

from config.logging import EMAIL_PLACEHOLDER, IP_PLACEHOLDER, JsonFormatter, ScrubPersonalData
from consent.models import ConsentRecord
from tests.consent.conftest import form_token
from tests.factories import PASSWORD

IP = "203.0.113.77"
SECRET_TEXT = "my landlord's name is Ottoline Q. Vasquez-Brandt"


def logged_text(caplog) -> str:
    """Everything the records would put in a log line: messages and extra fields."""
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.extend(
            str(value) for key, value in vars(record).items() if key not in ("msg", "args")
        )
    return "\n".join(parts)


@pytest.mark.django_db
def test_a_decision_and_a_chat_log_ids_but_no_text_email_or_ip(client, undecided_user, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(undecided_user)
    token = form_token(client)

    client.post(
        reverse("consent:decide"), {"form_token": token, "decision": "opt_in"}, REMOTE_ADDR=IP
    )
    client.post(reverse("conversations:new"), {"text": SECRET_TEXT}, REMOTE_ADDR=IP)

    record = ConsentRecord.objects.get(user=undecided_user)
    decision_logs = [r for r in caplog.records if r.getMessage() == "consent decision recorded"]
    assert [(r.record_id, r.user_id, r.choice) for r in decision_logs] == [
        (str(record.pk), undecided_user.pk, "opt_in")
    ]
    text = logged_text(caplog)
    assert SECRET_TEXT not in text
    assert "Ottoline" not in text
    assert undecided_user.email not in text
    assert IP not in text


@pytest.mark.django_db
def test_failed_logins_and_the_axes_lockout_log_no_ip_or_email(client, undecided_user, caplog):
    caplog.set_level(logging.DEBUG)

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(
            reverse("accounts:login"),
            {"username": undecided_user.email, "password": "wrong-" + PASSWORD},
            REMOTE_ADDR=IP,
        )

    assert response.status_code == 429
    text = logged_text(caplog)
    assert "Locking out" in text
    assert IP not in text
    assert undecided_user.email not in text


def test_scrub_filter_masks_ip_and_email_addresses_in_third_party_messages():
    record = logging.makeLogRecord(
        {"msg": "AXES: login failure by %s from %s", "args": ("ann@example.com", IP)}
    )

    ScrubPersonalData().filter(record)

    assert (
        record.getMessage() == f"AXES: login failure by {EMAIL_PLACEHOLDER} from {IP_PLACEHOLDER}"
    )


def test_scrub_filter_masks_ipv6_but_leaves_times_and_versions_alone():
    record = logging.makeLogRecord(
        {"msg": "from 2001:db8::7 at 12:30:45, version 8.3.1, cutoff 2026-01-01T00:00:00+00:00"}
    )

    ScrubPersonalData().filter(record)

    assert record.getMessage() == (
        f"from {IP_PLACEHOLDER} at 12:30:45, version 8.3.1, cutoff 2026-01-01T00:00:00+00:00"
    )


def test_json_formatter_writes_one_object_with_plain_extras_only():
    record = logging.makeLogRecord(
        {
            "name": "consent.services",
            "levelname": "INFO",
            "msg": "consent decision recorded",
            "record_id": "4b1f",
            "choice": "opt_out",
            "request": object(),  # Django's request logger passes the request: never dumped
        }
    )

    line = JsonFormatter().format(record)

    entry = json.loads(line)
    assert entry["message"] == "consent decision recorded"
    assert entry["logger"] == "consent.services"
    assert (entry["record_id"], entry["choice"]) == ("4b1f", "opt_out")
    assert "request" not in entry
    assert "\n" not in line
