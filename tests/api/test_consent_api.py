"""The consent endpoints: a user's consent, receipts, the current policy, the schema and docs."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api import errors
from consent.receipts import receipt_build
from tests.consent.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def consent_of(api, user_id):
    return api.get(reverse("api:user_consent", kwargs={"user_id": user_id}))


# --- A user's consent -----------------------------------------------------------------------


def test_opted_in_user_reports_choice_time_and_latest_record(api, person, decide, policy):
    user = person()
    record = decide.opt_in(user)

    body = consent_of(api, user.pk).json()

    assert body == {
        "user_id": user.pk,
        "status": "opted_in",
        "requirement": "none",
        "blocked": False,
        "policy_version": policy.version,
        "decision_deadline": body["decision_deadline"],
        "choice": "opt_in",
        "decided_at": body["decided_at"],
        "latest_record_id": str(record.pk),
    }
    assert parse_datetime(body["decided_at"]) == record.decided_at
    assert parse_datetime(body["decision_deadline"]) == policy.decision_deadline


def test_opted_out_user_reports_opted_out(api, person, decide):
    user = person()
    decide.opt_in(user)
    record = decide.opt_out(user)

    body = consent_of(api, user.pk).json()

    assert (body["status"], body["choice"], body["latest_record_id"]) == (
        "opted_out",
        "opt_out",
        str(record.pk),
    )


def test_existing_user_before_the_deadline_is_undecided_and_not_blocked(api, person, policy):
    body = consent_of(api, person().pk).json()

    assert (body["status"], body["requirement"], body["blocked"]) == ("undecided", "notice", False)
    assert (
        body["choice"] is None and body["decided_at"] is None and body["latest_record_id"] is None
    )


def test_new_user_is_undecided_and_blocked_until_they_decide(api, person, policy):
    newcomer = person(date_joined=timezone.now())

    body = consent_of(api, newcomer.pk).json()

    assert (body["status"], body["requirement"], body["blocked"]) == (
        "undecided",
        "first_login",
        True,
    )


def test_undecided_user_after_the_deadline_is_locked_out(api, person, clock):
    PolicyFactory(
        effective_at=timezone.now() - timedelta(days=40),
        decision_deadline=timezone.now() - timedelta(days=1),
    )

    body = consent_of(api, person().pk).json()

    assert (body["status"], body["requirement"], body["blocked"]) == (
        "locked_out",
        "deadline",
        True,
    )


def test_decision_under_a_superseded_policy_no_longer_counts(api, person, decide, clock):
    user = person()
    old_record = decide.opt_in(user)
    newer = PolicyFactory(effective_at=timezone.now())
    clock.shift(timedelta(seconds=1))

    body = consent_of(api, user.pk).json()

    assert (body["status"], body["policy_version"], body["choice"], body["decided_at"]) == (
        "undecided",
        newer.version,
        None,
        None,
    )
    assert body["latest_record_id"] == str(old_record.pk)


def test_deleted_account_reports_account_deleted(api, person, decide):
    user = person()
    decide.opt_in(user)
    type(user).objects.filter(pk=user.pk).update(pseudonymised_at=timezone.now())

    assert consent_of(api, user.pk).json()["status"] == "account_deleted"


def test_before_any_policy_the_status_is_no_policy(api, person):
    body = consent_of(api, person().pk).json()

    assert (body["status"], body["policy_version"]) == ("no_policy", None)


def test_unknown_user_is_404_user_not_found(api, policy):
    response = consent_of(api, 987654321)

    assert response.status_code == 404
    assert response.json() == {
        "code": errors.USER_NOT_FOUND,
        "detail": errors.MESSAGES[errors.USER_NOT_FOUND],
    }


@pytest.mark.parametrize("user_id", ["abc", "0", "-3", "1.5", str(2**63)])
def test_malformed_user_id_is_422_with_what_failed(api, policy, user_id):
    response = consent_of(api, user_id)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == errors.INVALID_REQUEST
    assert body["errors"][0]["loc"][-1] == "user_id"


def test_consent_lookup_takes_a_bounded_number_of_queries(
    api, person, decide, django_assert_max_num_queries
):
    user = person()
    decide.opt_in(user)

    # token, user, policy (read live), standing, consent state (+ last_used_at the first time)
    with django_assert_max_num_queries(6):
        consent_of(api, user.pk)


# --- Receipts -----------------------------------------------------------------------------


def test_receipt_is_the_document_the_user_downloads(api, person, decide):
    user = person()
    decide.opt_in(user)
    record = decide.opt_out(user)

    now = timezone.now()
    with time_machine.travel(now, tick=False):  # the receipt's own creation time
        response = api.get(reverse("api:receipt", kwargs={"record_id": record.pk}))

    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(receipt_build(record, created_at=now)))


def test_unknown_receipt_is_404_record_not_found(api, policy):
    response = api.get(
        reverse("api:receipt", kwargs={"record_id": "00000000-0000-4000-8000-000000000000"})
    )

    assert response.status_code == 404
    assert response.json()["code"] == errors.RECORD_NOT_FOUND


def test_malformed_receipt_id_is_422(api, policy):
    response = api.get(reverse("api:receipt", kwargs={"record_id": "not-a-uuid"}))

    assert response.status_code == 422
    assert response.json()["code"] == errors.INVALID_REQUEST


# --- The current policy -------------------------------------------------------------------


def test_current_policy_is_described_with_its_digest(api, policy):
    body = api.get(reverse("api:policy_current")).json()

    assert body["version"] == policy.version
    assert body["text_sha256"] == policy.text_digest
    assert (body["opt_in_retention_days"], body["opt_out_retention_days"]) == (1825, 30)
    assert body["url"] == policy.get_absolute_url()


def test_without_a_policy_in_effect_current_policy_is_404_no_policy(api, clock):
    PolicyFactory(effective_at=timezone.now() + timedelta(days=1))

    response = api.get(reverse("api:policy_current"))

    assert response.status_code == 404
    assert response.json()["code"] == errors.NO_POLICY


# --- Schema and docs ------------------------------------------------------------------------


def test_openapi_schema_is_served_without_a_token(anonymous_api):
    response = anonymous_api.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/users/{user_id}/consent",
        "/api/v1/conversations/{conversation_id}/training-eligibility",
        "/api/v1/receipts/{record_id}",
        "/api/v1/policy/current",
        "/api/v1/snapshots/{snapshot_key}/withdrawals",
    }
    assert schema["components"]["securitySchemes"]["ServiceTokenAuth"]["scheme"] == "bearer"


def test_docs_page_loads_nothing_from_another_origin(anonymous_api):
    response = anonymous_api.get(reverse("api:openapi-view"))

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page should load its own static files"
    assert all(source.startswith("/static/") for source in sources), sources
    assert '"validatorUrl": null' in html
    # Under a script-src 'self' policy only data blocks may be inline, never code.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert all('type="application/json"' in attrs for attrs in inline), inline
