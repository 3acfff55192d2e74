"""Consent receipts: one JSON document per record, after ISO/IEC TS 27560.

States use the W3C Data Privacy Vocabulary (dpv:ConsentGiven, dpv:ConsentRefused,
dpv:ConsentWithdrawn; dpv:ConsentRequestDeferred for a "Not now").
"""

from django.conf import settings
from django.urls import reverse

from .evidence import record_proof
from .models import Choice, ConsentRecord
from .selectors import policy_basis

RECEIPT_SCHEMA = "ISO/IEC TS 27560:2023 consent record (JSON profile)"
PURPOSE = "Use of conversation content to train and improve future AI models"
# Plain words for the DPV states, for the receipt page; the JSON keeps the DPV terms.
STATE_WORDS = {
    "dpv:ConsentGiven": "You allowed it",
    "dpv:ConsentRefused": "You did not allow it",
    "dpv:ConsentWithdrawn": "You withdrew an earlier yes",
}
# Evidence fields the person's browser reports (consent.services.Submission): stored as
# reported, and labelled so wherever they are shown.
REPORTED_BY_BROWSER = "browser"
REPORTED_BY_BROWSER_NOTE = "as reported by the browser"
WITHDRAWAL_METHOD = (
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
        "address": settings.CONSENT_CONTROLLER_ADDRESS,
        "contact": settings.CONSENT_CONTROLLER_CONTACT,
    }


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


def receipt_build(record: ConsentRecord) -> dict:
    policy = record.policy
    retention = (
        policy.opt_in_retention if record.choice == Choice.OPT_IN else policy.opt_out_retention
    )
    state = consent_state(record)
    return {
        "schema": RECEIPT_SCHEMA,
        "record_id": str(record.pk),
        "receipt_url": absolute_url(reverse("consent:receipt", args=[record.pk])),
        "principal_id": f"user:{record.user_id}",
        "controller": controller(),
        "notice": {
            "policy_version": policy.version,
            "policy_title": policy.title,
            "policy_digest_sha256": record.policy_digest,
            "policy_url": absolute_url(
                reverse("consent:policy", kwargs={"version": policy.version})
            ),
            "design": record.shown or None,
        },
        "purpose": PURPOSE,
        "processing": ["dpv:Use", "dpv:Store"],
        "retention_period_days": retention.days,
        "jurisdiction": record.jurisdiction or None,
        "legal_basis": "dpv:Consent (GDPR Art. 6(1)(a), Art. 7)",
        "withdrawal_method": WITHDRAWAL_METHOD,
        "event": {
            "type": state.removeprefix("dpv:").replace("Consent", "Consent "),
            "time": record.decided_at.isoformat(),
            "shown_at": record.shown_at.isoformat(),
            "surface": record.surface,
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
