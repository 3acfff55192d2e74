"""Consent receipts: one JSON document per record, complete against ISO/IEC TS 27560.

Every field the W3C DPV guide to 27560 (sections 8 and 9) makes mandatory for a consent
record and a receipt is present and filled; the JSON-LD ``@context`` maps the document's
keys onto DPV, Dublin Core and schema.org terms, and values are DPV terms where DPV has
one (dpv:ConsentGiven, dpv:ExpressedConsent, pd:Communication, eu-gdpr:A15, …).
``tests/consent/test_receipt_fields.py`` keeps the field list. The receipt page says the
same in plain words (templates/consent/receipt.html).
"""

import json
import uuid
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language_info, gettext, gettext_noop

from .evidence import record_proof
from .models import Choice, ConsentRecord
from .selectors import policy_basis
from .wording import duration_words

RECEIPT_SCHEMA = "ISO/IEC TS 27560:2023 consent record (JSON profile)"
CONFORMS_TO = "https://w3id.org/dpv/schema/dpv-27560#receipt"
# Receipt ids are UUID-5s of the record id and the receipt's creation time: each document
# issued has its own id, and anyone holding one can recompute it.
RECEIPT_NAMESPACE = uuid.UUID("6f0c1c52-3f7e-4c47-9d0e-2b8f5a7d4e21")

CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "loc": "https://w3id.org/dpv/loc#",
    "dct": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "conforms_to": {"@id": "dct:conformsTo", "@type": "@id"},
    "receipt_id": "dct:identifier",
    "created_at": {"@id": "dct:created", "@type": "xsd:dateTime"},
    "record_id": "dpv:hasRecordOfActivity",
    "principal_id": "dpv:hasDataSubject",
    "controller": "dpv:hasDataController",
    "name": "dpv:hasName",
    "identifier": "dpv:hasIdentifier",
    "role": "@type",
    "contact": "schema:email",
    "address": "schema:address",
    "notice": "dpv:hasNotice",
    "language": "dct:language",
    "purpose": "dct:description",
    "purpose_types": {"@id": "dpv:hasPurpose", "@type": "@id"},
    "personal_data": "dpv:hasPersonalData",
    "type": "@type",
    "right": "@type",
    "title": "dct:title",
    "description": "dct:description",
    "processing": {"@id": "dpv:hasProcessing", "@type": "@id"},
    "storage_conditions": "dpv:hasStorageCondition",
    "duration": "dpv:hasDuration",
    "location": "dpv:hasLocation",
    "recipients": "dpv:hasRecipient",
    "rights": "dpv:hasRight",
    "exercised_at": {"@id": "dpv:isExercisedAt", "@type": "@id"},
    "jurisdictions": {"@id": "dpv:hasJurisdiction", "@type": "@id"},
    "legal_basis": "dpv:hasLegalBasis",
    "withdrawal_method": "dpv:hasConsentControl",
    "event": "dpv:hasConsentStatus",
    "time": {"@id": "dpv:isIndicatedAtTime", "@type": "xsd:dateTime"},
    "consent_type": {"@id": "dpv:hasLegalBasis", "@type": "@id"},
    "validity": "dpv:hasDuration",
    "expressed_by": "dpv:isIndicatedBy",
    "state": {"@id": "dpv:hasConsentStatus", "@type": "@id"},
}

# The human text below is English source marked with gettext_noop: a receipt is written in
# the language its notice was shown in (receipt_build translates it under that language),
# whatever language the request reading it speaks. DPV terms and codes are never translated.
PURPOSE = gettext_noop("Use of conversation content to train and improve future AI models")
PURPOSE_TYPES = ["dpv:ImproveExistingProductsAndServices", "dpv:ResearchAndDevelopment"]
# What training uses of a chat (training.services writes exactly this into a snapshot).
PERSONAL_DATA = [
    {
        "type": "pd:Communication",
        "description": gettext_noop(
            "The text of your chats: your messages and the assistant's replies, with email "
            "addresses, phone numbers, payment card and bank account numbers, national ID "
            "numbers, IP addresses and secrets such as passwords removed first."
        ),
    },
    {
        "type": "pd:CommunicationsMetadata",
        "description": gettext_noop(
            "Which messages belong to one chat and who wrote each (you or the assistant), "
            "under a pseudonymous id instead of your account."
        ),
    },
]
# Plain words for the DPV states, for the receipt page; the JSON keeps the DPV terms.
STATE_WORDS = {
    "dpv:ConsentGiven": gettext_noop("You allowed it"),
    "dpv:ConsentRefused": gettext_noop("You did not allow it"),
    "dpv:ConsentWithdrawn": gettext_noop("You withdrew an earlier yes"),
}
CONSENT_TYPE_WORDS = {
    "dpv:ExpressedConsent": gettext_noop("You answered by pressing a button."),
    "dpv:ImpliedConsent": gettext_noop(
        "You pressed Accept with the training switch left on, as it started: you did not "
        "turn it on yourself."
    ),
}
VALIDITY = gettext_noop(
    "Until you change it in privacy settings, or a material new version of the policy asks again"
)
# Evidence fields the person's browser reports (consent.services.Submission): stored as
# reported, and labelled so wherever they are shown.
REPORTED_BY_BROWSER = "browser"
REPORTED_BY_BROWSER_NOTE = gettext_noop("as reported by the browser")
WITHDRAWAL_METHOD = gettext_noop(
    "Privacy settings > 'Use my chats for training' > Turn off (one step, any time); "
    "takes effect for all future training snapshots."
)


def absolute_url(path: str) -> str:
    """A link that still works when the receipt is read away from the site."""
    return settings.SITE_URL.rstrip("/") + path


def controller() -> dict:
    """The data controller, from settings (GDPR Art. 13(1)(a); required in production)."""
    return {
        "name": settings.CONSENT_CONTROLLER_NAME,
        "identifier": settings.CONSENT_CONTROLLER_IDENTIFIER,
        "role": "dpv:DataController",
        "address": settings.CONSENT_CONTROLLER_ADDRESS,
        "contact": settings.CONSENT_CONTROLLER_CONTACT,
        "url": settings.SITE_URL,
    }


def recipients() -> list[dict]:
    """Who receives chats used for training: the controller, and any processor named."""
    own = {
        "name": settings.CONSENT_CONTROLLER_NAME,
        "role": "dpv:DataController",
        "description": gettext("The controller's own model training."),
    }
    others = [
        {
            "name": name,
            "role": "dpv:Recipient",
            "description": gettext("Receives training snapshots."),
        }
        for name in settings.CONSENT_TRAINING_RECIPIENTS
    ]
    return [own, *others]


def rights() -> list[dict]:
    """The data subject's rights, each with where it is exercised (GDPR Art. 7(3), 15-20, 77)."""
    settings_url = absolute_url(reverse("consent:privacy_settings"))
    export_url = absolute_url(reverse("training:data_export"))
    return [
        {
            "right": "eu-gdpr:A7-3",
            "title": gettext("Withdraw consent"),
            "exercised_at": settings_url,
        },
        {"right": "eu-gdpr:A15", "title": gettext("Access your data"), "exercised_at": export_url},
        {
            "right": "eu-gdpr:A20",
            "title": gettext("Take your data with you"),
            "exercised_at": export_url,
        },
        {
            "right": "eu-gdpr:A17",
            "title": gettext("Delete your account and chats"),
            "exercised_at": absolute_url(reverse("training:account_delete")),
        },
        {
            "right": "eu-gdpr:A77",
            "title": gettext("Complain to a data protection authority"),
            "exercised_at": None,
        },
    ]


def storage_conditions(record: ConsentRecord) -> list[dict]:
    policy = record.policy
    kept = policy.opt_in_retention if record.choice == Choice.OPT_IN else policy.opt_out_retention
    return [
        {
            "type": "dpv:StorageDuration",
            "duration": f"P{kept.days}D",
            "location": None,
            "description": gettext("Kept up to %(duration)s after the last message in a chat.")
            % {"duration": duration_words(kept)},
        },
        {
            "type": "dpv:StorageLocation",
            "duration": None,
            "location": f"loc:{settings.CONSENT_STORAGE_LOCATION}",
            "description": gettext("Stored in %(location)s.")
            % {"location": settings.CONSENT_STORAGE_LOCATION},
        },
        {
            "type": "dpv:StorageDeletion",
            "duration": f"P{policy.opt_out_retention.days}D",
            "location": None,
            "description": gettext(
                "Deleted %(duration)s after the last message when not allowed for training; "
                "a chat already used in training cannot be taken back out of it."
            )
            % {"duration": duration_words(policy.opt_out_retention)},
        },
    ]


def consent_state(record: ConsentRecord) -> str:
    """The DPV state the record puts the person in."""
    if record.choice == Choice.OPT_IN:
        return "dpv:ConsentGiven"
    previous = record.previous
    if (
        previous is not None
        and previous.choice == Choice.OPT_IN
        # Under the same decision basis: an editorial version carries the opt-in over.
        and policy_basis(record.policy).decided_under(previous.policy_id)
    ):
        return "dpv:ConsentWithdrawn"
    return "dpv:ConsentRefused"


def consent_type(record: ConsentRecord) -> str:
    """Expressed, unless an opt-in came from a switch that started on and was left alone."""
    if record.choice == Choice.OPT_IN and record.toggle_default and not record.toggle_touched:
        return "dpv:ImpliedConsent"
    return "dpv:ExpressedConsent"


def notice_language(record: ConsentRecord) -> str:
    """The language the consent copy was shown in (consent.copy); older records know the
    serving's language, or only the request's locale."""
    if record.language:
        return record.language
    if record.served_notice_id is not None:
        return record.served_notice.language
    return record.locale or settings.LANGUAGE_CODE


def receipt_id(record: ConsentRecord, created_at: datetime) -> str:
    return str(uuid.uuid5(RECEIPT_NAMESPACE, f"{record.pk}|{created_at.isoformat()}"))


def receipt_build(record: ConsentRecord, *, created_at: datetime | None = None) -> dict:
    """The receipt, its human text in the language the notice was shown in (the API, the
    download, the data export and the page all get this same document)."""
    with translation.override(notice_language(record)):
        return _receipt_build(record, created_at=created_at)


def _receipt_build(record: ConsentRecord, *, created_at: datetime | None) -> dict:
    created_at = created_at or timezone.now()
    policy = record.policy
    retention = (
        policy.opt_in_retention if record.choice == Choice.OPT_IN else policy.opt_out_retention
    )
    state = consent_state(record)
    principal = f"user:{record.user_id}"
    shown_url = absolute_url(reverse("consent:receipt_shown", args=[record.pk]))
    return {
        "@context": CONTEXT,
        "@type": "dpv:ConsentReceipt",
        "schema": RECEIPT_SCHEMA,
        "conforms_to": CONFORMS_TO,
        "receipt_id": receipt_id(record, created_at),
        "created_at": created_at.isoformat(),
        "record_id": str(record.pk),
        "receipt_url": absolute_url(reverse("consent:receipt", args=[record.pk])),
        "principal_id": principal,
        "controller": controller(),
        "notice": {
            "type": "dpv:ConsentNotice",
            "language": notice_language(record),
            "policy_version": policy.version,
            "policy_title": policy.title,
            "policy_digest_sha256": record.policy_digest,
            "policy_url": absolute_url(
                reverse("consent:policy", kwargs={"version": policy.version})
            ),
            "design": record.shown or None,
            "served_notice_id": str(record.served_notice_id) if record.served_notice_id else None,
            # SHA-256 of exactly the screen shown (consent.ShownCopy); part of record_hash.
            "shown_copy_sha256": record.shown_copy_id,
            "shown_copy_url": shown_url if record.shown_copy_id else None,
        },
        "purpose": gettext(PURPOSE),
        "purpose_types": PURPOSE_TYPES,
        "personal_data": [
            {**item, "description": gettext(item["description"])} for item in PERSONAL_DATA
        ],
        "processing": ["dpv:Use", "dpv:Store"],
        "storage_conditions": storage_conditions(record),
        "retention_period_days": retention.days,
        "recipients": recipients(),
        "rights": rights(),
        "jurisdictions": [f"loc:{settings.CONSENT_CONTROLLER_JURISDICTION}"],
        "jurisdiction": record.jurisdiction or None,
        "legal_basis": "dpv:Consent (GDPR Art. 6(1)(a), Art. 7)",
        "withdrawal_method": gettext(WITHDRAWAL_METHOD),
        "event": {
            "type": state.removeprefix("dpv:").replace("Consent", "Consent "),
            "time": record.decided_at.isoformat(),
            "shown_at": record.shown_at.isoformat(),
            "surface": record.surface,
            "consent_type": consent_type(record),
            "validity": {"type": "dpv:UntilEventDuration", "description": gettext(VALIDITY)},
            "expressed_by": {"role": "dpv:DataSubject", "id": principal},
            "toggle_default": record.toggle_default,
            "toggle_touched": record.toggle_touched,
            "learn_more_opened": record.learn_more_opened,
            # The page's script reports these two; the server cannot observe them itself.
            "reported_by": {
                "toggle_touched": REPORTED_BY_BROWSER,
                "learn_more_opened": REPORTED_BY_BROWSER,
            },
        },
        "state": state,
        "choice": record.choice,
        "context": {
            "ip_address_sha256": record.ip_hash or None,
            "user_agent": record.user_agent or None,
            "locale": record.locale or None,
        },
        "integrity": {
            "previous_record_id": str(record.previous_id) if record.previous_id else None,
            "record_hash_sha256": record.record_hash,
        },
        # Proof that the record is in the append-only evidence log under a signed tree head
        # (null until the next checkpoint covers it); check it with tools/verify_receipt.py.
        "anchored_evidence": record_proof(record),
    }


def receipt_page_context(record: ConsentRecord, *, created_at: datetime | None = None) -> dict:
    """The receipt page: the same document, and its terms in plain words."""
    created_at = created_at or timezone.now()
    receipt = receipt_build(record, created_at=created_at)
    language = receipt["notice"]["language"]
    with translation.override(language):
        words = {
            "state_words": gettext(STATE_WORDS[receipt["state"]]),
            "consent_type_words": gettext(CONSENT_TYPE_WORDS[receipt["event"]["consent_type"]]),
            "reported_by_browser": gettext(REPORTED_BY_BROWSER_NOTE),
        }
    try:
        language_name = get_language_info(language)["name_local"]
    except KeyError:
        language_name = language
    return {
        "record": record,
        "receipt": receipt,
        "created_at": created_at,
        **words,
        "language_name": language_name,
        # Where the page links to the screen shown and the policy text (a bundle links to
        # its own files instead).
        "shown_href": reverse("consent:receipt_shown", args=[record.pk])
        if record.shown_copy_id
        else None,
        "policy_href": reverse("consent:policy", args=[record.policy.version]),
        "receipt_json": json.dumps(receipt, indent=2),
    }
