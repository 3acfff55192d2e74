"""The per-user hash chain over consent records (tamper evidence, DESIGN §3)."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from .models import ConsentRecord

GENESIS = "0" * 64

HASHED_FIELDS = (
    "id",
    "user_id",
    "policy_id",
    "policy_digest",
    "choice",
    "surface",
    "variant_id",
    "arm_id",
    "shown",
    "toggle_default",
    "toggle_touched",
    "learn_more_opened",
    "shown_at",
    "decided_at",
    "form_key",
    "ip_hash",
    "user_agent",
    "locale",
    "jurisdiction",
    "previous_id",
)
# Hashed only when set, so records made before servings were kept (and before copy was
# kept per language) hash as they always did.
HASHED_IF_SET = (
    "served_notice_id",
    "shown_copy_id",
    "language",
    "requested_language",
    "copy_digest",
)


def _canonical_value(value):
    if isinstance(value, datetime):
        # UTC with fixed precision: the same instant always hashes the same way.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def record_canonical(record: ConsentRecord) -> str:
    payload = {name: _canonical_value(getattr(record, name)) for name in HASHED_FIELDS}
    for name in HASHED_IF_SET:
        if getattr(record, name, None) is not None:
            payload[name] = _canonical_value(getattr(record, name))
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash_material(record: ConsentRecord, previous_hash: str | None) -> bytes:
    """What ``record_hash`` hashes; also the record's leaf data in the evidence log."""
    return ((previous_hash or GENESIS) + "\n" + record_canonical(record)).encode()


def record_hash_compute(record: ConsentRecord, previous_hash: str | None) -> str:
    return hashlib.sha256(record_hash_material(record, previous_hash)).hexdigest()


# What a break reports; tests and the verification commands name them.
CHAIN_STARTS = "chain has {count} starting records"
PREVIOUS_MISSING = "previous record is missing"
HASH_MISMATCH = "record_hash does not match its content"


@dataclass(frozen=True)
class ChainBreak:
    record_id: str
    user_id: int
    reason: str

    def __str__(self) -> str:
        return f"record {self.record_id} (user {self.user_id}): {self.reason}"


def chain_verify_user(records: list[ConsentRecord]) -> list[ChainBreak]:
    """Check one user's records, given in chain order or not."""
    breaks: list[ChainBreak] = []
    by_id = {r.pk: r for r in records}
    starts = [r for r in records if r.previous_id is None]
    if len(starts) != 1 and records:
        for r in starts or records[:1]:
            breaks.append(ChainBreak(str(r.pk), r.user_id, CHAIN_STARTS.format(count=len(starts))))
    for record in records:
        previous = by_id.get(record.previous_id) if record.previous_id else None
        if record.previous_id and previous is None:
            breaks.append(ChainBreak(str(record.pk), record.user_id, PREVIOUS_MISSING))
            continue
        expected = record_hash_compute(record, previous.record_hash if previous else None)
        if expected != record.record_hash:
            breaks.append(ChainBreak(str(record.pk), record.user_id, HASH_MISMATCH))
    return breaks
