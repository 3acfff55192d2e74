"""Receipts are complete against ISO/IEC TS 27560 as the W3C DPV guide to it lists the
mandatory fields (sections 8 and 9): each one present, non-empty, and named in DPV terms."""

import uuid

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRecord, Surface
from consent.receipts import CONTEXT, RECEIPT_NAMESPACE, receipt_build
from consent.services import consent_decision_record

from .conftest import form_token

pytestmark = pytest.mark.django_db

# (27560 field, DPV-27560 section, path in the receipt JSON, the JSON-LD term it maps to)
MANDATORY = [
    # 8.1 record metadata
    ("schema version", "8.1.1", "conforms_to", "dct:conformsTo"),
    ("record identifier", "8.1.2", "record_id", "dpv:hasRecordOfActivity"),
    ("data subject", "8.1.3", "principal_id", "dpv:hasDataSubject"),
    # 8.2 notice
    ("notice", "8.2.1", "notice", "dpv:hasNotice"),
    ("notice language", "8.2.2", "notice.language", "dct:language"),
    # 8.3 processing
    ("purpose", "8.3.2", "purpose_types", "dpv:hasPurpose"),
    ("personal data", "8.3.3", "personal_data", "dpv:hasPersonalData"),
    ("personal data type", "8.3.3.1", "personal_data.*.type", "@type"),
    ("storage condition", "8.3.4.2", "storage_conditions", "dpv:hasStorageCondition"),
    ("storage location", "8.3.4.2", "storage_conditions.1.location", "dpv:hasLocation"),
    ("storage duration", "8.3.4.2", "storage_conditions.0.duration", "dpv:hasDuration"),
    ("data controller", "8.3.5", "controller", "dpv:hasDataController"),
    ("recipients", "8.3.7", "recipients", "dpv:hasRecipient"),
    ("consent change and withdrawal", "8.3.8", "withdrawal_method", "dpv:hasConsentControl"),
    ("jurisdiction", "8.3.9", "jurisdictions", "dpv:hasJurisdiction"),
    ("rights", "8.3.10", "rights", "dpv:hasRight"),
    # 8.4 entity (the controller)
    ("entity name", "8.4.1", "controller.name", "dpv:hasName"),
    ("entity identifier", "8.4.2", "controller.identifier", "dpv:hasIdentifier"),
    ("entity role", "8.4.3", "controller.role", "@type"),
    ("entity contact", "8.4.4", "controller.contact", "schema:email"),
    ("entity postal address", "8.4.4.1", "controller.address", "schema:address"),
    # 8.5 consent event
    ("consent type", "8.5.1", "event.consent_type", "dpv:hasLegalBasis"),
    ("consent state", "8.5.2", "state", "dpv:hasConsentStatus"),
    ("event time", "8.5.3", "event.time", "dpv:isIndicatedAtTime"),
    ("event duration", "8.5.4", "event.validity", "dpv:hasDuration"),
    ("expression by entity", "8.5.5", "event.expressed_by", "dpv:isIndicatedBy"),
    # 9.1 receipt header
    ("receipt schema version", "9.1.1", "conforms_to", "dct:conformsTo"),
    ("receipt identifier", "9.1.2", "receipt_id", "dct:identifier"),
    ("associated consent record", "9.1.3", "record_id", "dpv:hasRecordOfActivity"),
    ("receipt creation time", "9.1.4", "created_at", "dct:created"),
]


def _values(document, path: str) -> list:
    values = [document]
    for part in path.split("."):
        if part == "*":
            values = [item for value in values for item in value]
        elif part.isdigit():
            values = [value[int(part)] for value in values]
        else:
            values = [value.get(part) for value in values]
    return values


def _term(key: str):
    term = CONTEXT.get(key)
    return term["@id"] if isinstance(term, dict) else term


def _served_decision(client, user, use_variant, decision="opt_in") -> ConsentRecord:
    use_variant("two_buttons")
    client.force_login(user)
    token = form_token(client)
    client.post(reverse("consent:decide"), {"form_token": token, "decision": decision})
    return ConsentRecord.objects.get(user=user)


def _unserved_decision(user, policy, use_variant) -> ConsentRecord:
    """A record made without a kept rendering, as every record before served notices."""
    return consent_decision_record(
        user=user,
        policy=policy,
        choice="opt_out",
        surface=Surface.FIRST_LOGIN,
        form_key="k" * 32,
        shown_at=policy.effective_at,
        variant=use_variant("two_buttons"),
    ).record


@pytest.mark.parametrize(("field", "section", "path", "term"), MANDATORY)
def test_every_mandatory_field_is_present_and_filled(
    client, new_user, use_variant, field, section, path, term
):
    receipt = receipt_build(_served_decision(client, new_user, use_variant))

    values = _values(receipt, path)

    assert values, f"{field} ({section}) missing"
    assert all(value not in (None, "", [], {}) for value in values), f"{field} ({section}) empty"


@pytest.mark.parametrize(("field", "section", "path", "term"), MANDATORY)
def test_every_mandatory_field_is_filled_for_records_made_before_servings_were_kept(
    new_user, policy, use_variant, field, section, path, term
):
    receipt = receipt_build(_unserved_decision(new_user, policy, use_variant))

    assert all(value not in (None, "", [], {}) for value in _values(receipt, path)), field


@pytest.mark.parametrize(("field", "section", "path", "term"), MANDATORY)
def test_every_mandatory_field_reads_as_its_dpv_term(field, section, path, term):
    key = [part for part in path.split(".") if part != "*" and not part.isdigit()][-1]

    assert _term(key) == term, f"{field} ({section}): {key} maps to {_term(key)}"


def test_the_receipt_is_a_dpv_consent_receipt_in_json_ld(client, new_user, use_variant):
    receipt = receipt_build(_served_decision(client, new_user, use_variant))

    assert receipt["@type"] == "dpv:ConsentReceipt"
    assert receipt["@context"]["dpv"] == "https://w3id.org/dpv#"
    assert receipt["conforms_to"] == "https://w3id.org/dpv/schema/dpv-27560#receipt"
    assert receipt["state"] == "dpv:ConsentGiven"
    assert {d["type"] for d in receipt["personal_data"]} == {
        "pd:Communication",
        "pd:CommunicationsMetadata",
    }
    assert {r["right"] for r in receipt["rights"]} >= {"eu-gdpr:A7-3", "eu-gdpr:A15", "eu-gdpr:A17"}
    assert receipt["event"]["expressed_by"]["role"] == "dpv:DataSubject"


def test_the_header_has_its_own_time_and_id_apart_from_the_record(client, new_user, use_variant):
    record = _served_decision(client, new_user, use_variant)
    made = timezone.now()

    receipt = receipt_build(record, created_at=made)

    assert receipt["created_at"] == made.isoformat()
    assert receipt["record_id"] == str(record.pk)
    assert receipt["receipt_id"] == str(
        uuid.uuid5(RECEIPT_NAMESPACE, f"{record.pk}|{made.isoformat()}")
    )
    assert receipt["receipt_id"] != receipt["record_id"]


def test_the_notice_language_is_the_language_it_was_shown_in(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)  # rendered in English (the default)
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})
    record = ConsentRecord.objects.get()

    receipt = receipt_build(record)

    assert receipt["notice"]["language"] == record.served_notice.language == "en"
    assert receipt["notice"]["shown_copy_sha256"] == record.shown_copy_id


def test_accepting_a_switch_that_started_on_is_not_called_expressed_consent(
    client, new_user, use_variant
):
    use_variant("accept_toggle_on")
    client.force_login(new_user)
    token = form_token(client)
    client.post(
        reverse("consent:decide"), {"form_token": token, "decision": "accept", "training": "on"}
    )

    receipt = receipt_build(ConsentRecord.objects.get())

    assert receipt["choice"] == "opt_in"
    assert receipt["event"]["consent_type"] == "dpv:ImpliedConsent"


def test_pressing_a_button_is_expressed_consent(client, new_user, use_variant):
    receipt = receipt_build(_served_decision(client, new_user, use_variant))

    assert receipt["event"]["consent_type"] == "dpv:ExpressedConsent"


def test_the_receipt_page_says_the_same_in_plain_words(client, new_user, use_variant):
    record = _served_decision(client, new_user, use_variant)

    with time_machine.travel(timezone.now(), tick=False):
        page = client.get(reverse("consent:receipt", args=[record.pk])).content.decode()

    people_part = page.split("<details>")[0]
    for words in [
        "You answered by pressing a button.",
        "You, the account holder",
        "Language of the screen",
        "The text of your chats",
        "Stored in EU.",
        "Who receives it",
        "Until you change it in privacy settings",
        "Access your data",
        "Receipt made",
    ]:
        assert words in people_part, words
    assert reverse("consent:receipt_shown", args=[record.pk]) in people_part
    assert "dpv:" not in people_part and "pd:" not in people_part
