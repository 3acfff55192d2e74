"""Evidence bundles: everything a regulator or auditor needs to check people's consent,
offline, in one zip (``manage.py evidence_bundle``, and the admin action on records).

Per person: their records (the exact hashed material), receipts (JSON, with the inclusion
proof, and a readable HTML copy), the servings of every consent screen shown to them and
their "Not now"s; once for the bundle: the exact HTML of each screen shown (named by its
SHA-256), the policy texts (named by version, hashing to each receipt's policy digest),
the signed tree heads the proofs lead to, the public keys that signed them, the standalone
verifier and a README. ``manifest.json`` holds the SHA-256 of every other file.

Per record also: where its ``consent.decided`` event reached each downstream system that
takes that type (``webhooks.selectors.records_propagation``, the same rows as the record's
admin page), as of the moment the bundle was made.
"""

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from evidence import keys
from webhooks.models import DeliveryStatus, EventType
from webhooks.selectors import NOT_SUBSCRIBED, Propagation, RecordPropagation, records_propagation

from .chain import record_canonical
from .models import ConsentRecord, NoticeDeferral, Policy, ServedNotice, ShownCopy
from .receipts import receipt_page_context

BUNDLE_FORMAT = "consentgate-evidence-bundle/v1"
VERIFIER = Path(settings.BASE_DIR) / "tools" / "verify_receipt.py"
README_TEMPLATE = "consent/evidence_bundle_readme.md"
NO_EVENT_NOTE = (
    "No webhook event: this record was made before downstream systems were told of consent "
    "changes by webhook, so no system was told of it this way."
)


@dataclass(frozen=True)
class BundleScope:
    """Whose evidence, and which part of it."""

    user_ids: list[int]
    since: datetime | None = None
    policy: Policy | None = None

    def records(self):
        records = ConsentRecord.objects.filter(user_id__in=self.user_ids)
        if self.since is not None:
            records = records.filter(decided_at__gte=self.since)
        if self.policy is not None:
            records = records.filter(policy=self.policy)
        return records.select_related("policy", "variant", "previous", "served_notice").order_by(
            "user_id", "decided_at", "id"
        )

    def servings(self):
        servings = ServedNotice.objects.filter(user_id__in=self.user_ids)
        if self.since is not None:
            servings = servings.filter(served_at__gte=self.since)
        if self.policy is not None:
            servings = servings.filter(policy=self.policy)
        return servings.select_related("policy", "variant").order_by("user_id", "served_at")

    def deferrals(self):
        deferrals = NoticeDeferral.objects.filter(user_id__in=self.user_ids)
        if self.since is not None:
            deferrals = deferrals.filter(deferred_at__gte=self.since)
        if self.policy is not None:
            deferrals = deferrals.filter(policy=self.policy)
        return deferrals.select_related("policy", "variant").order_by("user_id", "deferred_at")


@dataclass
class BundleSummary:
    users: int = 0
    records: int = 0
    servings: int = 0
    shown_copies: int = 0
    heads: int = 0
    unanchored: int = 0  # records no signed head covered yet: their receipts carry no proof
    without_event: int = 0  # records made before the webhooks outbox: no system was told
    files: dict[str, str] = field(default_factory=dict)  # path -> SHA-256

    def __str__(self) -> str:
        text = (
            f"{self.users} people, {self.records} records, {self.servings} screens shown, "
            f"{self.shown_copies} distinct screens, {self.heads} signed heads"
        )
        if self.unanchored:
            text += f"; {self.unanchored} records not yet under a signed head (no proof)"
        if self.without_event:
            text += f"; {self.without_event} records made before webhooks (no system told)"
        return text


def _json(data) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _serving_row(serving: ServedNotice) -> dict:
    return {
        "id": str(serving.pk),
        "surface": serving.surface,
        "policy_version": serving.policy.version,
        "design": serving.variant.key if serving.variant else None,
        "arm_id": serving.arm_id,
        "language": serving.language,
        "served_at": _iso(serving.served_at),
        "shown_copy_sha256": serving.shown_copy_id,
        "shown_copy_file": f"shown/{serving.shown_copy_id}.html",
    }


def _deferral_row(deferral: NoticeDeferral) -> dict:
    return {
        "policy_version": deferral.policy.version,
        "design": deferral.variant.key if deferral.variant else None,
        "deferred_at": _iso(deferral.deferred_at),
        "hidden_until": _iso(deferral.hidden_until),
        "served_notice_id": str(deferral.served_notice_id) if deferral.served_notice_id else None,
    }


def _record_row(record: ConsentRecord) -> dict:
    """The record exactly as hashed: ``record_hash`` = SHA-256(previous hash + "\\n" +
    canonical), so anyone can recompute the chain from this file."""
    return {
        "record_id": str(record.pk),
        "canonical": record_canonical(record),
        "previous_record_hash": record.previous.record_hash if record.previous else None,
        "record_hash": record.record_hash,
    }


def _subscriber_status(row: Propagation) -> dict:
    status = {
        "subscriber_id": row.subscriber.pk,
        "subscriber_name": row.subscriber.name,
        "status": row.status,
        "webhook_id": row.event_id,
    }
    if row.status == DeliveryStatus.DELIVERED:
        status |= {
            "delivered_at": _iso(row.delivered_at),
            "response_status": row.response_status,
            "attempts": row.attempts,
        }
    elif row.status == DeliveryStatus.FAILED:
        status |= {
            "attempts": row.attempts,
            "last_response_status": row.response_status,
            "last_error": row.last_error,
            "next_attempt_at": _iso(row.next_attempt_at),
        }
    elif row.status == DeliveryStatus.DEAD_LETTERED:
        status |= {
            "dead_lettered_at": _iso(row.dead_lettered_at),
            "attempts": row.attempts,
            "last_response_status": row.response_status,
            "last_error": row.last_error,
        }
    return status


def _delivery_row(record: ConsentRecord, propagation: RecordPropagation, *, as_of) -> dict:
    """Per subscriber that takes the record's event type, keyed by its (unique) name."""
    return {
        "record_id": str(record.pk),
        "event_type": EventType.CONSENT_DECIDED.value,
        # The Standard Webhooks ``webhook-id`` header: a receiver's logs are matched on it.
        "webhook_id": propagation.event_ids[0] if propagation.event_ids else None,
        "no_event": None if propagation.event_ids else NO_EVENT_NOTE,
        "status_as_of": _iso(as_of),
        "subscribers": {
            row.subscriber.name: _subscriber_status(row)
            for row in propagation.rows
            if row.status != NOT_SUBSCRIBED
        },
    }


def _public_key_pem(raw: bytes) -> bytes:
    return Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class _Writer:
    """Adds files to the zip and remembers each one's digest for the manifest."""

    def __init__(self, archive: zipfile.ZipFile, summary: BundleSummary):
        self.archive = archive
        self.summary = summary

    def add(self, name: str, content: bytes) -> None:
        if name in self.summary.files:
            return
        self.archive.writestr(name, content)
        self.summary.files[name] = hashlib.sha256(content).hexdigest()


def evidence_bundle_write(
    *,
    scope: BundleScope,
    out: BinaryIO,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> BundleSummary:
    """Write the bundle for ``scope`` as a zip to ``out``; returns what it holds."""
    progress = progress or (lambda items, **_: items)
    made_at = timezone.now()
    summary = BundleSummary(users=len(scope.user_ids))
    records_by_user: dict[int, list[ConsentRecord]] = {}
    for record in scope.records():
        records_by_user.setdefault(record.user_id, []).append(record)
    servings_by_user: dict[int, list[ServedNotice]] = {}
    for serving in scope.servings():
        servings_by_user.setdefault(serving.user_id, []).append(serving)
    deferrals_by_user: dict[int, list[NoticeDeferral]] = {}
    for deferral in scope.deferrals():
        deferrals_by_user.setdefault(deferral.user_id, []).append(deferral)

    propagations = records_propagation(
        event_type=EventType.CONSENT_DECIDED,
        record_ids=[str(r.pk) for records in records_by_user.values() for r in records],
    )

    digests: set[str] = set()
    policies: dict[str, Policy] = {}
    heads: dict[int, dict] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        writer = _Writer(archive, summary)
        for user_id in progress(scope.user_ids, desc="people", unit="person"):
            base = f"people/{user_id}"
            records = records_by_user.get(user_id, [])
            servings = servings_by_user.get(user_id, [])
            writer.add(f"{base}/records.json", _json([_record_row(r) for r in records]))
            writer.add(f"{base}/served_notices.json", _json([_serving_row(s) for s in servings]))
            deferrals = [_deferral_row(d) for d in deferrals_by_user.get(user_id, [])]
            writer.add(f"{base}/deferrals.json", _json(deferrals))
            for record in records:
                context = receipt_page_context(record, created_at=made_at)
                receipt = context["receipt"]
                writer.add(f"{base}/receipts/{record.pk}.json", _json(receipt))
                # Paths from people/<id>/receipts/ to the bundle's own copies.
                context["shown_href"] = (
                    f"../../../shown/{record.shown_copy_id}.html" if record.shown_copy_id else None
                )
                context["policy_href"] = f"../../../policies/{record.policy.version}.txt"
                html = render_to_string("consent/receipt_standalone.html", context)
                writer.add(f"{base}/receipts/{record.pk}.html", html.encode())
                propagation = propagations[str(record.pk)]
                delivery = _delivery_row(record, propagation, as_of=made_at)
                writer.add(f"{base}/deliveries/{record.pk}.json", _json(delivery))
                summary.without_event += not propagation.event_ids
                policies[record.policy.version] = record.policy
                proof = receipt["anchored_evidence"]
                if proof is None:
                    summary.unanchored += 1
                else:
                    heads[proof["signed_tree_head"]["tree_size"]] = proof["signed_tree_head"]
            digests.update(s.shown_copy_id for s in servings)
            digests.update(r.shown_copy_id for r in records if r.shown_copy_id)
            for serving in servings:
                policies[serving.policy.version] = serving.policy
            summary.records += len(records)
            summary.servings += len(servings)

        for copy in ShownCopy.objects.filter(digest__in=digests).iterator():
            writer.add(f"shown/{copy.digest}.html", copy.html.encode())
        summary.shown_copies = len(digests)
        for version, policy in sorted(policies.items()):
            text = "\n".join([policy.version, policy.title, policy.summary, policy.body])
            writer.add(f"policies/{version}.txt", text.encode())
        for size, head in sorted(heads.items()):
            writer.add(f"heads/tree-head-{size:015d}.json", _json(head))
        summary.heads = len(heads)
        trusted = keys.trusted_public_keys()
        for key_id in sorted({head["key_id"] for head in heads.values()}):
            if key_id in trusted:
                writer.add(f"keys/{key_id}.pem", _public_key_pem(trusted[key_id]))
        writer.add("tools/verify_receipt.py", VERIFIER.read_bytes())
        readme = render_to_string(
            README_TEMPLATE,
            {
                "made_at": made_at,
                "summary": summary,
                "controller": settings.CONSENT_CONTROLLER_NAME,
            },
        )
        writer.add("README.md", readme.encode())
        manifest = {
            "format": BUNDLE_FORMAT,
            "made_at": made_at.isoformat(),
            "scope": {
                "user_ids": scope.user_ids,
                "since": _iso(scope.since),
                "policy_version": scope.policy.version if scope.policy else None,
            },
            "controller": settings.CONSENT_CONTROLLER_NAME,
            "files_sha256": dict(sorted(summary.files.items())),
        }
        archive.writestr("manifest.json", _json(manifest))
    return summary
