"""Consent records in the evidence log (DESIGN §4 rule 7).

A record's leaf data is exactly what its ``record_hash`` hashes: the previous record's
hash, a newline, and the record's canonical JSON. So SHA-256(leaf data) is the record's
hash, and anyone holding a receipt can recompute both from what the receipt shows.
"""

import logging
from collections.abc import Iterable

from config.statements import Statement
from evidence.selectors import inclusion_proof
from evidence.services import log_entries_append, log_entry_insert

from .chain import GENESIS, record_hash_material
from .models import ConsentRecord, UserConsentState
from .tip import state_mismatch_q

logger = logging.getLogger(__name__)

RECORD_LEAF_KIND = "consent.record"


def record_log_insert(record: ConsentRecord, *, previous_hash: str | None) -> Statement | None:
    """The statement that queues the record's leaf; run it in the transaction that inserts
    the record (consent.services.decisions sends both in one round trip)."""
    return log_entry_insert(
        kind=RECORD_LEAF_KIND,
        object_id=str(record.pk),
        data=record_hash_material(record, previous_hash),
    )


def records_log_append(records: Iterable[ConsentRecord]) -> int:
    """Queue the leaves of records written in bulk (demo data, the backfill migration).

    Each record's ``previous`` must be among ``records`` or already saved.
    """
    records = list(records)
    hashes = {r.pk: r.record_hash for r in records}
    missing = {r.previous_id for r in records if r.previous_id and r.previous_id not in hashes}
    hashes.update(ConsentRecord.objects.filter(pk__in=missing).values_list("pk", "record_hash"))
    return log_entries_append(
        (
            RECORD_LEAF_KIND,
            str(r.pk),
            record_hash_material(r, hashes[r.previous_id] if r.previous_id else None),
        )
        for r in records
    )


def record_proof(record: ConsentRecord) -> dict | None:
    """The receipt's proof block, once a signed tree head covers the record; else None.

    Everything ``tools/verify_receipt.py`` needs, offline: the leaf data, its index, the
    inclusion proof, the signed head and the public key (and its id) that signed it.
    """
    proof = inclusion_proof(kind=RECORD_LEAF_KIND, object_id=str(record.pk))
    if proof is None:
        return None
    previous_hash = (
        ConsentRecord.objects.filter(pk=record.previous_id)
        .values_list("record_hash", flat=True)
        .first()
        if record.previous_id
        else GENESIS
    )
    return {
        "leaf_data": record_hash_material(record, previous_hash).decode(),
        **proof.as_document(),
    }


def state_mismatches_report(*, limit: int = 1000) -> list[int]:
    """Log at ERROR each user whose state row disagrees with their chain tip.

    Training use already refuses them (``consent.tip.verified_opt_in_q``); this says so
    where an operator will see it, at each export. ``manage.py verify_evidence`` names why.
    """
    user_ids = list(
        UserConsentState.objects.filter(state_mismatch_q())
        .order_by("user_id")
        .values_list("user_id", flat=True)[:limit]
    )
    for user_id in user_ids:
        logger.error(
            "consent state disagrees with the chain tip; training use blocked for user %s",
            user_id,
            extra={"user_id": user_id},
        )
    return user_ids
