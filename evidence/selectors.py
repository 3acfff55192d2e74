"""Reads of the evidence log: heads, leaves and the proofs over them."""

import base64
import json
import logging
from dataclasses import dataclass

from django.db.models import Q

from . import keys, merkle
from .models import NODE_LEVEL_MIN, LogEntry, SignedTreeHead, TreeNode
from .services import head_document, sink_name, sink_storage

logger = logging.getLogger(__name__)


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


class _Dummy(dict):
    """A recording stand-in: any hash asked for is noted and answered with zeros."""

    def __missing__(self, key):
        self[key] = bytes(merkle.HASH_SIZE)
        return self[key]


def _proof_reads(index: int, size: int) -> tuple[set[tuple[int, int]], set[int]]:
    """The stored nodes and the leaves an inclusion proof needs: O(log n) of each at most.

    Worked out by running the proof over stand-ins that record what they are asked."""
    nodes, leaves = _Dummy(), _Dummy()
    tree = merkle.Tree(
        lambda start, end: [leaves[i] for i in range(start, end)],
        cache_from=1,
        nodes=lambda level, i: nodes[level, i] if level >= NODE_LEVEL_MIN else None,
    )
    tree.inclusion_proof(index, size)
    return set(nodes), set(leaves)


def _proof_from_nodes(index: int, size: int) -> list[bytes] | None:
    """The proof from the stored nodes (one query) and the few leaves below them (one
    query); None if a node is missing (a log sequenced before nodes were stored)."""
    wanted_nodes, wanted_leaves = _proof_reads(index, size)
    stored: dict[tuple[int, int], bytes] = {}
    if wanted_nodes:
        match = Q()
        for level, i in wanted_nodes:
            match |= Q(level=level, index=i)
        stored = {
            (level, i): bytes.fromhex(h)
            for level, i, h in TreeNode.objects.filter(match).values_list("level", "index", "hash")
        }
        if len(stored) != len(wanted_nodes):
            return None
    leaves = {
        i: bytes.fromhex(h)
        for i, h in LogEntry.objects.filter(leaf_index__in=wanted_leaves).values_list(
            "leaf_index", "leaf_hash"
        )
    }
    if len(leaves) != len(wanted_leaves):
        return None
    tree = merkle.Tree(
        lambda start, end: [leaves[i] for i in range(start, end)],
        cache_from=1,
        nodes=lambda level, i: stored[level, i] if level >= NODE_LEVEL_MIN else None,
    )
    return tree.inclusion_proof(index, size)


def inclusion_proof(*, kind: str, object_id: str) -> InclusionProof | None:
    """The proof that an object's leaf is in the latest signed head, or None while no
    signed head covers it yet (the next checkpoint will).

    Reads O(log n) rows: the stored subtree roots (``TreeNode``) the proof names and the
    few leaves below the lowest stored level. A log whose nodes are missing (not yet
    backfilled) falls back to reading every leaf up to the head, and says so.
    """
    entry = log_entry_for(kind=kind, object_id=object_id)
    if entry is None or entry.leaf_index is None:
        return None
    head = head_covering(entry.leaf_index)
    if head is None:
        return None
    proof = _proof_from_nodes(entry.leaf_index, head.tree_size)
    if proof is None:
        logger.warning(
            "evidence tree nodes missing below head %d: proof built from every leaf",
            head.tree_size,
        )
        leaves = leaf_hashes(head.tree_size)
        tree = merkle.Tree(lambda start, end: leaves[start:end])
        proof = tree.inclusion_proof(entry.leaf_index, head.tree_size)
    return InclusionProof(
        leaf_index=entry.leaf_index,
        leaf_hash=entry.leaf_hash,
        proof=[h.hex() for h in proof],
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


def latest_head() -> SignedTreeHead | None:
    return SignedTreeHead.objects.order_by("-tree_size").first()


def published_head(tree_size: int) -> bytes | None:
    """A signed head exactly as it was written to the sink (the copy the database cannot
    rewrite), or None if no head of that size was published."""
    if not SignedTreeHead.objects.filter(tree_size=tree_size).exists():
        return None
    try:
        with sink_storage().open(sink_name(tree_size)) as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def public_keys_document() -> dict:
    """The keys tree heads are checked with: the one signing now, and older trusted ones."""
    trusted = keys.trusted_public_keys()
    current = keys.key_id(keys.public_raw(keys.signing_key().public_key()))
    return {
        "algorithm": "Ed25519",
        "key_id": current,
        "public_key": base64.b64encode(trusted[current]).decode(),
        "also_trusted": [
            {"key_id": key_id, "public_key": base64.b64encode(raw).decode()}
            for key_id, raw in trusted.items()
            if key_id != current
        ],
        "key_id_is": "SHA-256 of the 32 raw public key bytes, hex",
    }
