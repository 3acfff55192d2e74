"""Writes to the evidence log: append a leaf, sequence the queue, sign a tree head.

The split follows Trillian's log: a writer pays one INSERT of an unsequenced entry in its
own transaction; a single sequencer step, under a lock, later gives committed entries
their leaf indexes and extends the tree; a checkpoint signs the new size and root and
publishes the head outside the database.
"""

import base64
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone

from config.statements import Statement, row_insert

from . import errors, keys, merkle
from .models import NODE_LEVEL_MIN, LogEntry, SequencerState, SignedTreeHead, TreeNode

logger = logging.getLogger(__name__)

HEAD_FORMAT = "consentgate-tree-head/v1"


class SinkError(RuntimeError):
    pass


def log_append_enabled() -> bool:
    """False only under bench/load.py's log-off side (``EVIDENCE_LOG_APPEND``, set by
    bench/settings.py alone): the cost of the append, measured. The setting is in no
    product settings module, and ``manage.py check`` refuses it anywhere else (evidence.E001)."""
    return getattr(settings, "EVIDENCE_LOG_APPEND", True)


def _entry(kind: str, object_id: str, data: bytes, now: datetime) -> LogEntry:
    return LogEntry(
        kind=kind, object_id=object_id, leaf_hash=merkle.leaf_hash(data).hex(), created_at=now
    )


def log_entry_append(*, kind: str, object_id: str, data: bytes) -> LogEntry | None:
    """Queue one leaf; call inside the transaction that writes the covered object."""
    if not log_append_enabled():
        return None
    entry = _entry(kind, object_id, data, timezone.now())
    entry.save(force_insert=True)
    return entry


def log_entry_insert(*, kind: str, object_id: str, data: bytes) -> Statement | None:
    """``log_entry_append`` as a statement, for a caller that sends it with its own writes
    in one round trip (config.statements); None while the append is off."""
    if not log_append_enabled():
        return None
    return row_insert(_entry(kind, object_id, data, timezone.now()), prepared=True)


def log_entries_append(entries: Iterable[tuple[str, str, bytes]], *, batch_size=2000) -> int:
    """Queue many leaves at once (bulk writers, backfills): (kind, object_id, data) each."""
    now = timezone.now()
    rows = [_entry(kind, object_id, data, now) for kind, object_id, data in entries]
    LogEntry.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


def _assign_indexes(ids: list[int], first_index: int) -> None:
    """leaf_index = first_index + the entry's rank among ``ids``, in one statement."""
    table = LogEntry._meta.db_table
    # One IN list on every vendor (callers pass at most 900 ids), so the SQLite run tests the
    # statement PostgreSQL runs.
    members = ", ".join(["%s"] * len(ids))
    sql = f"""
        UPDATE {table} SET leaf_index = ranked.position
        FROM (SELECT id, %s + ROW_NUMBER() OVER (ORDER BY id) - 1 AS position
              FROM {table} WHERE id IN ({members})) AS ranked
        WHERE {table}.id = ranked.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [first_index, *ids])


@transaction.atomic
def log_sequence(*, batch_size: int | None = None) -> int:
    """Give up to ``batch_size`` committed, unsequenced entries their leaf indexes, and
    store the tree nodes they complete (``TreeNode``: O(log n) receipt proofs).

    The ordering trap: an entry's ``id`` comes from a sequence at INSERT time, not at
    COMMIT, so a transaction holding id 10 may commit after id 11 is visible. Reading
    "every id up to the highest seen" while writers are in flight would skip 10 for good
    (or, if positions were derived from ids, leave a hole). So positions are never derived
    from ids: this step reads the entries that are committed *now* and appends exactly those,
    in id order only as a deterministic tie-break; 10 simply joins a later batch. The
    single state row's lock (the write lock on SQLite) makes steps run one at a time.
    """
    batch_size = batch_size or settings.EVIDENCE_SEQUENCE_BATCH_SIZE
    SequencerState.objects.get_or_create(pk=1)
    state = SequencerState.objects.select_for_update().get(pk=1)
    pending = list(
        LogEntry.objects.filter(leaf_index__isnull=True)
        .order_by("id")
        .values_list("id", "leaf_hash")[:batch_size]
    )
    if not pending:
        return 0
    tree = merkle.CompactRange(state.tree_size, [bytes.fromhex(h) for h in state.frontier])
    first_index = state.tree_size
    nodes: list[TreeNode] = []

    def keep(level: int, index: int, node: bytes) -> None:
        if level >= NODE_LEVEL_MIN:
            nodes.append(TreeNode(level=level, index=index, hash=node.hex()))

    for _, leaf in pending:
        tree.append(bytes.fromhex(leaf), on_node=keep)
    ids = [pk for pk, _ in pending]
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit, with room
        _assign_indexes(ids[start : start + 900], first_index + start)
    TreeNode.objects.bulk_create(nodes, batch_size=2000)
    state.tree_size = tree.size
    state.frontier = [h.hex() for h in tree.frontier]
    state.root_hash = tree.root().hex()
    state.updated_at = timezone.now()
    state.save(update_fields=["tree_size", "frontier", "root_hash", "updated_at"])
    logger.info("evidence log sequenced %d entries; tree size %d", len(ids), tree.size)
    return len(ids)


def head_signed_bytes(*, tree_size: int, root_hash: str, timestamp_ms: int) -> bytes:
    """The exact bytes a head's signature covers (tools/verify_receipt.py builds the same)."""
    return f"{HEAD_FORMAT}\n{tree_size}\n{root_hash}\n{timestamp_ms}\n".encode()


def head_document(head: SignedTreeHead) -> dict:
    """A head as published: everything needed to check its signature, nothing else."""
    return {
        "format": HEAD_FORMAT,
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "timestamp_ms": head.timestamp_ms,
        "key_id": head.key_id,
        "signature": head.signature,
    }


def sink_storage():
    return storages[settings.EVIDENCE_SINK_STORAGE]


def sink_name(tree_size: int) -> str:
    # Zero-padded so a listing sorts by size.
    return f"tree-heads/{tree_size:015d}.json"


def _publish(head: SignedTreeHead) -> None:
    storage = sink_storage()
    if storage.exists(head.sink_name):
        raise SinkError(errors.SINK_HEAD_EXISTS)
    body = json.dumps(head_document(head), sort_keys=True, indent=1).encode()
    saved = storage.save(head.sink_name, ContentFile(body))
    if saved != head.sink_name:  # a backend that renames instead of overwriting
        raise SinkError(errors.SINK_HEAD_EXISTS)


@dataclass(frozen=True)
class Checkpoint:
    sequenced: int
    head: SignedTreeHead | None


def tree_head_sign(*, now=None) -> SignedTreeHead | None:
    """Sign the sequenced tree if it grew since the last head; write the head to the table
    and then to the sink. A head in the table but not the sink is reported by verification."""
    key = keys.signing_key()
    with transaction.atomic():
        state = SequencerState.objects.select_for_update().filter(pk=1).first()
        if state is None or state.tree_size == 0:
            return None
        latest = SignedTreeHead.objects.order_by("-tree_size").first()
        if latest is not None and latest.tree_size >= state.tree_size:
            return None
        timestamp_ms = int((now or timezone.now()).timestamp() * 1000)
        message = head_signed_bytes(
            tree_size=state.tree_size, root_hash=state.root_hash, timestamp_ms=timestamp_ms
        )
        head = SignedTreeHead.objects.create(
            tree_size=state.tree_size,
            root_hash=state.root_hash,
            timestamp_ms=timestamp_ms,
            key_id=keys.key_id(keys.public_raw(key.public_key())),
            signature=base64.b64encode(key.sign(message)).decode(),
            sink_name=sink_name(state.tree_size),
        )
    try:
        _publish(head)
    except Exception:
        logger.exception("evidence tree head %d was not written to the sink", head.tree_size)
        raise
    logger.info("evidence tree head signed: size %d root %s", head.tree_size, head.root_hash)
    return head


def checkpoint(*, now=None, max_batches: int | None = None) -> Checkpoint:
    """Sequence what is queued (a bounded number of batches), then sign the new head.

    Cost grows with the new entries only: the tree is extended from its stored frontier.
    """
    max_batches = max_batches or settings.EVIDENCE_SEQUENCE_MAX_BATCHES
    sequenced = 0
    for _ in range(max_batches):
        step = log_sequence()
        sequenced += step
        if step == 0:
            break
    return Checkpoint(sequenced=sequenced, head=tree_head_sign(now=now))
