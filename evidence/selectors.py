"""Reads of the evidence log: heads, leaves and the proofs over them."""

import base64
import json
from dataclasses import dataclass

from . import keys, merkle
from .models import LogEntry, SignedTreeHead
from .services import head_document, sink_storage


def leaf_hashes(size: int) -> list[bytes]:
    """The first ``size`` leaf hashes, in tree order (one query)."""
    rows = (
        LogEntry.objects.filter(leaf_index__lt=size)
        .order_by("leaf_index")
        .values_list("leaf_hash", flat=True)
    )
    return [bytes.fromhex(h) for h in rows.iterator(chunk_size=20_000)]


def log_entry_for(*, kind: str, object_id: str) -> LogEntry | None:
    return LogEntry.objects.filter(kind=kind, object_id=object_id).first()


def head_covering(leaf_index: int) -> SignedTreeHead | None:
    """The latest signed head, if it covers this leaf."""
    head = SignedTreeHead.objects.order_by("-tree_size").first()
    if head is None or head.tree_size <= leaf_index:
        return None
    return head


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    leaf_hash: str
    proof: list[str]
    head: SignedTreeHead

    def as_document(self) -> dict:
        """The proof block of a receipt: everything tools/verify_receipt.py needs."""
        public = keys.trusted_public_keys().get(self.head.key_id)
        return {
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash,
            "inclusion_proof": self.proof,
            "signed_tree_head": head_document(self.head),
            "key_id": self.head.key_id,
            "public_key": base64.b64encode(public).decode() if public else None,
        }


def inclusion_proof(*, kind: str, object_id: str) -> InclusionProof | None:
    """The proof that an object's leaf is in the latest signed head, or None while no
    signed head covers it yet (the next checkpoint will).

    Costs one read of the tree's leaf hashes up to the head: receipts are rare and the
    proof is cached nowhere, so nothing can drift from the log.
    """
    entry = log_entry_for(kind=kind, object_id=object_id)
    if entry is None or entry.leaf_index is None:
        return None
    head = head_covering(entry.leaf_index)
    if head is None:
        return None
    leaves = leaf_hashes(head.tree_size)
    tree = merkle.Tree(lambda start, end: leaves[start:end])
    return InclusionProof(
        leaf_index=entry.leaf_index,
        leaf_hash=entry.leaf_hash,
        proof=[h.hex() for h in tree.inclusion_proof(entry.leaf_index, head.tree_size)],
        head=head,
    )


def sink_heads() -> dict[str, dict | None]:
    """Every head file in the sink: name -> parsed document (None if unreadable)."""
    storage = sink_storage()
    try:
        _, files = storage.listdir("tree-heads")
    except FileNotFoundError:
        return {}
    heads: dict[str, dict | None] = {}
    for name in sorted(files):
        if not name.endswith(".json"):
            continue
        path = f"tree-heads/{name}"
        try:
            with storage.open(path) as handle:
                heads[path] = json.loads(handle.read())
        except (ValueError, OSError):
            heads[path] = None
    return heads
