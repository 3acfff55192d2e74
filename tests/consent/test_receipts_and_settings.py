"""Receipts and privacy settings: what a person can see and prove."""

import json

import pytest
from django.urls import reverse

from consent.models import ConsentRecord
from consent.receipts import receipt_build

from .conftest import TOKEN_RE, form_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(client, existing_user, policy, use_variant):
    use_variant("accept_toggle_on")
    client.force_login(existing_user)
    client.post(
        reverse("consent:decide"),
        {
            "form_token": form_token(client, "/conversations/"),
            "decision": "accept",
            "training": "on",
        },
    )
    return ConsentRecord.objects.get()


def settings_token(client) -> str:
    return TOKEN_RE.search(client.get(reverse("consent:privacy_settings")).content.decode()).group(
        1
    )


def test_receipt_json_carries_the_iso_27560_fields(client, decided, policy):
    response = client.get(reverse("consent:receipt_json", args=[decided.pk]))

    receipt = json.loads(response.content)
    assert response["Content-Disposition"].startswith("attachment;")
    assert receipt["record_id"] == str(decided.pk)
    assert receipt["principal_id"] == f"user:{decided.user_id}"
    assert receipt["notice"]["policy_version"] == policy.version
    assert receipt["notice"]["policy_digest_sha256"] == policy.text_digest
    assert receipt["notice"]["design"]["toggle_default"] is True
    assert receipt["retention_period_days"] == 1825
    assert receipt["state"] == "dpv:ConsentGiven"
    assert receipt["withdrawal_method"]
    assert receipt["event"]["surface"] == "existing_notice"
    assert receipt["integrity"]["record_hash_sha256"] == decided.record_hash


def test_withdrawal_receipt_says_consent_withdrawn(client, decided):
    client.post(
        reverse("consent:privacy_change"),
        {"form_token": settings_token(client), "decision": "opt_out"},
    )

    withdrawal = ConsentRecord.objects.exclude(pk=decided.pk).get()
    assert receipt_build(withdrawal)["state"] == "dpv:ConsentWithdrawn"
    assert receipt_build(withdrawal)["retention_period_days"] == 30


def test_refusal_receipt_says_consent_refused(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    client.post(
        reverse("consent:decide"), {"form_token": form_token(client), "decision": "opt_out"}
    )

    assert receipt_build(ConsentRecord.objects.get())["state"] == "dpv:ConsentRefused"


def test_receipt_page_is_readable(client, decided):
    response = client.get(reverse("consent:receipt", args=[decided.pk]))

    assert response.status_code == 200
    assert b"Consent receipt" in response.content
    assert decided.record_hash.encode() in response.content


def test_another_users_receipt_is_not_found(client, decided, django_user_model, policy):
    other = django_user_model.objects.create_user("other@example.com", "x-correct-horse")
    client.force_login(other)
    from consent.models import Choice

    from .test_lifecycle import decide

    decide(other, policy, Choice.OPT_OUT)

    assert client.get(reverse("consent:receipt", args=[decided.pk])).status_code == 404
    assert client.get(reverse("consent:receipt_json", args=[decided.pk])).status_code == 404


def test_privacy_settings_show_the_choice_where_it_was_made_and_the_history(client, decided):
    response = client.get(reverse("consent:privacy_settings"))

    page = response.content.decode()
    assert "<strong>On</strong>" in page
    assert "Existing-user notice" in page
    assert reverse("consent:receipt", args=[decided.pk]) in page
    assert "Turn off training use" in page


def test_withdrawing_is_one_step(client, decided):
    response = client.post(
        reverse("consent:privacy_change"),
        {"form_token": settings_token(client), "decision": "opt_out"},
    )

    assert response.status_code == 302
    assert ConsentRecord.objects.order_by("-decided_at").first().choice == "opt_out"
    assert (
        "<strong>Off</strong>" in client.get(reverse("consent:privacy_settings")).content.decode()
    )


def test_settings_change_with_a_toggle_design_value_is_refused(client, decided):
    response = client.post(
        reverse("consent:privacy_change"),
        {"form_token": settings_token(client), "decision": "accept"},
    )

    assert response.status_code == 400
    assert ConsentRecord.objects.count() == 1


def test_settings_form_cannot_be_replayed_as_a_notice_deferral(client, decided):
    response = client.post(reverse("consent:defer"), {"form_token": settings_token(client)})

    assert response.status_code == 409


def test_state_changing_consent_urls_refuse_get(client, decided):
    assert client.get(reverse("consent:defer")).status_code == 405
    assert client.get(reverse("consent:privacy_change")).status_code == 405


def test_policy_page_is_public_and_shows_the_text_fingerprint(client, policy):
    response = client.get(reverse("consent:policy", args=[policy.version]))

    assert response.status_code == 200
    assert policy.text_digest.encode() in response.content


def test_htmx_decision_on_the_notice_swaps_in_a_confirmation(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = form_token(client, "/conversations/")

    response = client.post(
        reverse("consent:decide"),
        {"form_token": token, "decision": "opt_in"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "consentDecided" in response["HX-Trigger"]
    assert b"Your choice is saved" in response.content
    assert b"<html" not in response.content


def test_htmx_decision_error_is_a_4xx_fragment(client, existing_user, policy, use_variant):
    use_variant("two_buttons")
    client.force_login(existing_user)

    response = client.post(
        reverse("consent:decide"),
        {"form_token": "garbage", "decision": "opt_in"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert b"<html" not in response.content
