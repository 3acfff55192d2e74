"""Training snapshot export, sharded over Celery workers (DESIGN §4 rules 1, 7, 8).

An export is planned, written shard by shard, then finalised:

1. Plan (``snapshot_export_plan``): the live policy is read from the database and the
   conversation id space is cut into ranges of ``shard_size`` ids, one ``SnapshotShard``
   row each. Nothing is read from conversations beyond their ids.
2. Write (``snapshot_shard_write``), once per shard, on any worker: the shard is claimed
   (a new attempt number), eligibility is decided at write time with the single builder
   ``training.selectors.eligible_conversations`` under the planned policy (which must
   still be the live one), every message is redacted, the lines go to a local temporary
   file, eligibility is checked once more, and the kept lines are compressed into the
   export storage under a name fixed by (export, shard, attempt). The shard row then
   commits its (file, digest, counts) and its ledger-to-be (``ShardEntry``) in one
   transaction, unless another attempt committed first: first to commit wins, the loser
   deletes its own file. Only a committed (file, digest) is ever listed.
3. Finalise (``snapshot_export_finalise``), called after each shard and by the beat
   sweep: under a lock on the export row, and only when every shard is done and the
   planned policy is still the live one, the manifest is written and the snapshot row and
   every ``TrainingUse`` row are inserted, in one transaction. A second call finds the
   export done and returns its snapshot: the ledger is written exactly once.

Faults: a worker killed mid-shard leaves the shard ``running`` with an uncommitted file
at most; the redelivered task (``acks_late``) or, if the message is lost, the beat sweep
(``snapshot_exports_advance``, after ``TRAINING_SHARD_LEASE_SECONDS``) runs it again as a
new attempt. A duplicated delivery runs the same shard twice and one commit wins.

Reruns: ``snapshot_key`` is an idempotency key. A rerun with the key of a finished
snapshot returns it and writes nothing; with the key of a running export it continues
that export; the key of a failed export is spent.
"""

import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from consent.evidence import state_mismatches_report
from consent.models import Policy
from consent.selectors import current_policy_live
from conversations.models import Conversation, Message, Role
from conversations.services import conversation_title
from webhooks.models import EventType
from webhooks.services import EventDraft, events_record

from . import errors, storage
from .errors import TrainingExportError
from .models import (
    ConversationErasure,
    ExportStatus,
    ShardEntry,
    ShardFormat,
    ShardStatus,
    SnapshotExport,
    SnapshotShard,
    TrainingSnapshot,
    TrainingUse,
)
from .pseudonyms import user_pseudonym
from .redaction import REDACTION_VERSION, redact
from .selectors import eligible_conversations

logger = logging.getLogger(__name__)

# Conversations read (with their messages) per query inside a shard.
EXPORT_BATCH_SIZE = 500
# Conversation ids per shard: one task, one file. Small enough that a lost shard is
# cheap to redo, large enough that the per-task overhead (claim, upload, commit) is noise.
DEFAULT_SHARD_SIZE = 10_000
# A shard not done this long after it was sent or started is sent again. Longer than the
# shard task's time limit, so the first attempt is dead by then (or finishes first).
DEFAULT_SHARD_LEASE_SECONDS = 2 * 60 * 60
# Ids per "still eligible?" query (one id range each).
RECHECK_CHUNK_SIZE = 2000
# Phone numbers written without +CC are read in the owner's country, else in this region.
DEFAULT_REGION = "US"
SNAPSHOT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MANIFEST_VERSION = 1


def shard_size_setting() -> int:
    return int(getattr(settings, "TRAINING_SHARD_SIZE", DEFAULT_SHARD_SIZE))


def shard_lease() -> timedelta:
    seconds = getattr(settings, "TRAINING_SHARD_LEASE_SECONDS", DEFAULT_SHARD_LEASE_SECONDS)
    return timedelta(seconds=int(seconds))


# --- Plan -----------------------------------------------------------------------------------


def _shard_bounds(size: int) -> list[tuple[int, int]]:
    """Consecutive ``(lower, upper]`` ranges of ``size`` conversation ids, as of now.

    Each bound is an index-only scan of the primary key. Conversations created after the
    plan fall outside every range: they belong to the next snapshot.
    """
    bounds: list[tuple[int, int]] = []
    lower = 0
    while True:
        upper = list(
            Conversation.objects.filter(pk__gt=lower)
            .order_by("pk")
            .values_list("pk", flat=True)[size - 1 : size]
        )
        if not upper:
            last = (
                Conversation.objects.filter(pk__gt=lower)
                .order_by("-pk")
                .values_list("pk", flat=True)[:1]
            )
            if last:
                bounds.append((lower, last[0]))
            return bounds
        bounds.append((lower, upper[0]))
        lower = upper[0]


def _manifest_target(snapshot_key: str, out_path) -> tuple[str, str, str]:
    """(location, manifest name, the snapshot's file_name) for an export."""
    if out_path is None:
        name = f"training-{snapshot_key}.json"
        return "", name, name
    out = Path(out_path).resolve()
    return str(out.parent), out.name, str(out)


def snapshot_export_plan(
    *,
    snapshot_key: str | None = None,
    now: datetime | None = None,
    created_by=None,
    out_path: str | os.PathLike | None = None,
    shard_size: int | None = None,
    file_format: str = ShardFormat.JSONL_GZ,
) -> SnapshotExport:
    """Plan an export (or return the one already planned under ``snapshot_key``)."""
    if snapshot_key is None:
        snapshot_key = secrets.token_hex(16)
    if not SNAPSHOT_KEY.match(snapshot_key):
        raise TrainingExportError(errors.INVALID_SNAPSHOT_KEY)
    existing = SnapshotExport.objects.filter(snapshot_key=snapshot_key).first()
    if existing is not None:
        if existing.status == ExportStatus.FAILED:
            raise TrainingExportError(errors.EXPORT_KEY_SPENT)
        return existing
    planned_at = now or timezone.now()
    policy = current_policy_live(now=planned_at)
    if policy is None:
        raise TrainingExportError(errors.NO_POLICY)
    location, manifest_name, file_name = _manifest_target(snapshot_key, out_path)
    taken = TrainingSnapshot.objects.filter(file_name=file_name).exists() or (
        SnapshotExport.objects.filter(location=location, manifest_name=manifest_name).exists()
    )
    if taken:
        raise TrainingExportError(errors.FILE_BELONGS_TO_SNAPSHOT)
    # Users whose state row disagrees with their chain are left out by eligibility; say so.
    state_mismatches_report()
    bounds = _shard_bounds(shard_size or shard_size_setting())
    with transaction.atomic():
        export = SnapshotExport.objects.create(
            snapshot_key=snapshot_key,
            policy=policy,
            planned_at=planned_at,
            created_by=created_by,
            file_format=file_format,
            location=location,
            manifest_name=manifest_name,
            shard_count=len(bounds),
        )
        SnapshotShard.objects.bulk_create(
            [
                SnapshotShard(export=export, index=index, lower_id=lower, upper_id=upper)
                for index, (lower, upper) in enumerate(bounds)
            ]
        )
    logger.info(
        "training export planned",
        extra={"snapshot_key": snapshot_key, "shards": len(bounds), "policy": policy.version},
    )
    return export


# --- Write one shard --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """What the ledger needs of one line written to a shard file."""

    conversation_id: int
    user_id: int
    consent_record_id: object
    content_sha256: str
    title: str
    message_count: int
    redaction: dict[str, int]


def _exported_title(messages: list[dict[str, str]]) -> str:
    """The title as the file shows it: made from the first *redacted* user message the
    way a conversation's own title is made (cut at a word boundary, with an ellipsis)."""
    first = next((m["text"] for m in messages if m["role"] == Role.USER), "")
    return conversation_title(first)


def _id_windows(lower: int, upper: int, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive ``(lower, upper]`` windows of at most ``size`` ids inside a shard.

    Bounded ranges rather than ``pk > last LIMIT n`` over the eligibility join: each query
    then reads only its own ids, whatever plan the joins get.
    """
    while lower < upper:
        bound = list(
            Conversation.objects.filter(pk__gt=lower, pk__lte=upper)
            .order_by("pk")
            .values_list("pk", flat=True)[size - 1 : size]
        )
        window_upper = bound[0] if bound else upper
        yield lower, window_upper
        lower = window_upper


def _build(
    *, shard: SnapshotShard, policy: Policy, batch_size: int
) -> Iterator[tuple[_Entry, bytes]]:
    """Every eligible conversation of the shard, redacted, as (ledger entry, JSON line)."""
    pseudonyms: dict[int, str] = {}
    eligible = eligible_conversations(policy=policy).order_by("pk")
    for lower, upper in _id_windows(shard.lower_id, shard.upper_id, batch_size):
        batch = list(
            eligible.filter(pk__gt=lower, pk__lte=upper).values_list(
                "pk", "user_id", "user__country", "covered_by_id"
            )
        )
        if not batch:
            continue
        thread: dict[int, list[tuple[str, str]]] = defaultdict(list)
        rows = (
            Message.objects.filter(conversation_id__in=[row[0] for row in batch])
            .order_by("conversation_id", "created_at", "pk")
            .values_list("conversation_id", "role", "content")
        )
        for conversation_id, role, content in rows:
            thread[conversation_id].append((role, content))
        for conversation_id, user_id, country, covered_by_id in batch:
            if not thread[conversation_id]:
                continue  # nothing to train on, so nothing is used
            totals: Counter[str] = Counter()
            messages = []
            for role, content in thread[conversation_id]:
                result = redact(content, default_region=country or DEFAULT_REGION)
                totals.update(result.counts)
                messages.append({"role": role, "text": result.text})
            if user_id not in pseudonyms:
                pseudonyms[user_id] = user_pseudonym(user_id)
            line = json.dumps(
                {
                    "conversation_id": conversation_id,
                    "user": pseudonyms[user_id],
                    "consent_record_id": str(covered_by_id),
                    "messages": messages,
                    "redaction": dict(totals),
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
            yield (
                _Entry(
                    conversation_id=conversation_id,
                    user_id=user_id,
                    consent_record_id=covered_by_id,
                    content_sha256=_sha256(line),
                    title=_exported_title(messages),
                    message_count=len(messages),
                    redaction=dict(totals),
                ),
                line,
            )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _still_eligible(conversation_ids: list[int], *, policy: Policy) -> set[int]:
    """Which of the (ascending) ids are eligible now; one range query per chunk."""
    eligible = eligible_conversations(policy=policy)
    keep: set[int] = set()
    for start in range(0, len(conversation_ids), RECHECK_CHUNK_SIZE):
        chunk = conversation_ids[start : start + RECHECK_CHUNK_SIZE]
        found = eligible.filter(pk__gte=chunk[0], pk__lte=chunk[-1]).values_list("pk", flat=True)
        keep.update(set(found).intersection(chunk))
    return keep


def _policy_is_live(export: SnapshotExport) -> bool:
    """The planned policy is still the one in effect, read from the database (rule 4)."""
    live = current_policy_live()
    return live is not None and live.pk == export.policy_id


@transaction.atomic
def snapshot_export_fail(*, export_id: int, error: str) -> None:
    """Stop an export for good: no shard commits and nothing is recorded after this."""
    export = SnapshotExport.objects.select_for_update().get(pk=export_id)
    if export.status != ExportStatus.RUNNING:
        return
    export.status = ExportStatus.FAILED
    export.error = error
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "error", "finished_at"])
    logger.error(
        "training export failed", extra={"snapshot_key": export.snapshot_key, "error": error}
    )


@transaction.atomic
def _shard_claim(shard_id: int, worker: str) -> tuple[SnapshotShard, int] | None:
    shard = (
        SnapshotShard.objects.select_for_update(of=("self",))
        .select_related("export")
        .filter(pk=shard_id)
        .first()
    )
    if shard is None or shard.status == ShardStatus.DONE:
        return None  # a duplicate delivery of a finished shard
    if shard.export.status != ExportStatus.RUNNING:
        return None
    shard.attempt += 1
    shard.status = ShardStatus.RUNNING
    shard.worker = worker[:200]
    shard.started_at = timezone.now()
    shard.save(update_fields=["attempt", "status", "worker", "started_at"])
    return shard, shard.attempt


@transaction.atomic
def _shard_commit(
    *,
    shard_id: int,
    file_name: str,
    digest: str,
    entries: list[_Entry],
    checked_at: datetime,
) -> bool:
    """Record a written shard; False when another attempt committed first (or it failed)."""
    shard = (
        SnapshotShard.objects.select_for_update(of=("self",))
        .select_related("export")
        .get(pk=shard_id)
    )
    if shard.status == ShardStatus.DONE or shard.export.status != ExportStatus.RUNNING:
        return False
    totals: Counter[str] = Counter()
    for entry in entries:
        totals.update(entry.redaction)
    shard.status = ShardStatus.DONE
    shard.file_name = file_name
    shard.file_sha256 = digest
    shard.conversation_count = len(entries)
    shard.message_count = sum(entry.message_count for entry in entries)
    shard.redaction_counts = dict(sorted(totals.items()))
    shard.checked_at = checked_at
    shard.finished_at = timezone.now()
    shard.save(
        update_fields=[
            "status",
            "file_name",
            "file_sha256",
            "conversation_count",
            "message_count",
            "redaction_counts",
            "checked_at",
            "finished_at",
        ]
    )
    ShardEntry.objects.bulk_create(
        [
            ShardEntry(
                shard=shard,
                conversation_id=entry.conversation_id,
                user_id=entry.user_id,
                consent_record_id=entry.consent_record_id,
                content_sha256=entry.content_sha256,
                conversation_title=entry.title,
            )
            for entry in entries
        ],
        batch_size=2000,
    )
    return True


def snapshot_shard_write(
    *, shard_id: int, worker: str = "", batch_size: int = EXPORT_BATCH_SIZE
) -> SnapshotShard | None:
    """Write one shard (see the module docstring); None when there was nothing to do.

    Safe to run any number of times, concurrently too: each run is a new attempt with its
    own file name, and only the first commit counts.
    """
    claim = _shard_claim(shard_id, worker)
    if claim is None:
        return None
    shard, attempt = claim
    export = shard.export
    if not _policy_is_live(export):
        snapshot_export_fail(export_id=export.pk, error=errors.POLICY_CHANGED)
        return None
    target = export_storage_for(export)
    name = storage.shard_name(export, shard, attempt)
    with tempfile.TemporaryDirectory(prefix="training-shard-") as tmp:
        raw_path = Path(tmp) / "lines.jsonl"
        entries: list[_Entry] = []
        with raw_path.open("wb") as handle:
            for entry, line in _build(shard=shard, policy=export.policy, batch_size=batch_size):
                handle.write(line + b"\n")
                entries.append(entry)
        # Anyone who opted out, was pseudonymised or deleted a conversation while the
        # shard was read drops out now; the rows are "used" as of this check.
        checked_at = timezone.now()
        keep = _still_eligible([entry.conversation_id for entry in entries], policy=export.policy)
        kept = [entry for entry in entries if entry.conversation_id in keep]
        encoded = Path(tmp) / "shard"
        with raw_path.open("rb") as lines:
            storage.encode_shard(
                (
                    line.rstrip(b"\n")
                    for entry, line in zip(entries, lines, strict=True)
                    if entry.conversation_id in keep
                ),
                file_format=export.file_format,
                target=encoded,
            )
        digest = storage.sha256_of(encoded)
        storage.store(target, name, encoded)
    if not _shard_commit(
        shard_id=shard.pk, file_name=name, digest=digest, entries=kept, checked_at=checked_at
    ):
        # Another attempt won (or the export failed). The name carries this attempt's
        # number, given once under the shard's lock, so no row lists it: never keep a
        # file nothing lists.
        target.delete(name)
        return None
    shard.refresh_from_db()
    logger.info(
        "training shard written",
        extra={
            "snapshot_key": export.snapshot_key,
            "shard": shard.index,
            "attempt": attempt,
            "conversations": shard.conversation_count,
        },
    )
    return shard


def export_storage_for(export: SnapshotExport):
    return storage.export_storage(export.location)


# --- Finalise -------------------------------------------------------------------------------


def _manifest(export: SnapshotExport, shards: list[SnapshotShard], finalised_at) -> bytes:
    totals: Counter[str] = Counter()
    for shard in shards:
        totals.update(shard.redaction_counts)
    document = {
        "manifest_version": MANIFEST_VERSION,
        "snapshot_key": export.snapshot_key,
        "policy": {
            "version": export.policy.version,
            "text_sha256": export.policy.text_digest,
        },
        "planned_at": export.planned_at.isoformat(),
        "finalised_at": finalised_at.isoformat(),
        "redaction_version": REDACTION_VERSION,
        "format": export.file_format,
        "conversation_count": sum(s.conversation_count for s in shards),
        "message_count": sum(s.message_count for s in shards),
        "redaction_counts": dict(sorted(totals.items())),
        "shards": [
            {
                "index": shard.index,
                "id_range": [shard.lower_id, shard.upper_id],
                "file": shard.file_name,
                "sha256": shard.file_sha256,
                "conversations": shard.conversation_count,
                "messages": shard.message_count,
                "checked_at": shard.checked_at.isoformat(),
            }
            for shard in shards
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


# The ledger rows are copied set-based from the finished shards' entries: one statement,
# however many conversations, and the created_at of a row is its shard's eligibility check.
LEDGER_FROM_ENTRIES = """
    INSERT INTO {use} (snapshot_id, conversation_id, user_id, consent_record_id,
                       content_sha256, conversation_title, created_at)
    SELECT %s, e.conversation_id, e.user_id, e.consent_record_id,
           e.content_sha256, e.conversation_title, s.checked_at
    FROM {entry} e JOIN {shard} s ON s.id = e.shard_id
    WHERE s.export_id = %s
"""


def snapshot_export_finalise(*, export_id: int) -> TrainingSnapshot | None:
    """Write the manifest, the snapshot row and the ledger, once every shard is done.

    Exactly once: under a lock on the export row, and a done export returns its snapshot.
    None while shards are outstanding, or when the export failed (``export.error`` says
    why); a policy published since the plan fails it here too.
    """
    snapshot, stale = _finalise(export_id)
    for target, name in stale:
        target.delete(name)  # after commit: files of attempts that lost, listed nowhere
    return snapshot


def _finalise(export_id: int):
    with transaction.atomic():
        export = (
            SnapshotExport.objects.select_for_update(of=("self",))
            .select_related("policy")
            .get(pk=export_id)
        )
        if export.status == ExportStatus.DONE:
            return export.snapshot, []
        if export.status == ExportStatus.FAILED:
            return None, []
        shards = list(export.shards.order_by("index"))
        if any(shard.status != ShardStatus.DONE for shard in shards):
            return None, []
        if not _policy_is_live(export):
            export.status = ExportStatus.FAILED
            export.error = errors.POLICY_CHANGED
            export.finished_at = timezone.now()
            export.save(update_fields=["status", "error", "finished_at"])
            logger.error(
                "training export failed",
                extra={"snapshot_key": export.snapshot_key, "error": errors.POLICY_CHANGED},
            )
            return None, []
        finalised_at = timezone.now()
        manifest = _manifest(export, shards, finalised_at)
        target = export_storage_for(export)
        with tempfile.TemporaryDirectory(prefix="training-manifest-") as tmp:
            local = Path(tmp) / "manifest.json"
            local.write_bytes(manifest)
            storage.store(target, export.manifest_name, local)
        _, _, file_name = _manifest_target(
            export.snapshot_key,
            Path(export.location) / export.manifest_name if export.location else None,
        )
        totals: Counter[str] = Counter()
        for shard in shards:
            totals.update(shard.redaction_counts)
        snapshot = TrainingSnapshot.objects.create(
            snapshot_key=export.snapshot_key,
            policy=export.policy,
            created_at=finalised_at,
            created_by_id=export.created_by_id,
            conversation_count=sum(s.conversation_count for s in shards),
            message_count=sum(s.message_count for s in shards),
            file_name=file_name,
            file_sha256=_sha256(manifest),
            redaction_version=REDACTION_VERSION,
            redaction_counts=dict(sorted(totals.items())),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                LEDGER_FROM_ENTRIES.format(
                    use=TrainingUse._meta.db_table,
                    entry=ShardEntry._meta.db_table,
                    shard=SnapshotShard._meta.db_table,
                ),
                [snapshot.pk, export.pk],
            )
        ShardEntry.objects.filter(shard__export=export)._raw_delete(ShardEntry.objects.db)
        # Each person whose conversations went in learns it (webhooks outbox, this
        # transaction): a later opt-out or deletion can then name the snapshots to act on.
        per_user = (
            TrainingUse.objects.filter(snapshot=snapshot)
            .values("user_id")
            .annotate(conversations=Count("pk"))
            .values_list("user_id", "conversations")
        )
        events_record(
            drafts=[
                EventDraft(
                    type=EventType.SNAPSHOT_CREATED,
                    user_id=user_id,
                    record_id=snapshot.pk,
                    occurred_at=finalised_at,
                    data={
                        "snapshot_key": export.snapshot_key,
                        "policy_version": export.policy.version,
                        "conversations": conversations,
                    },
                )
                for user_id, conversations in per_user
            ]
        )
        export.status = ExportStatus.DONE
        export.snapshot = snapshot
        export.finished_at = finalised_at
        export.save(update_fields=["status", "snapshot", "finished_at"])
    logger.info(
        "training snapshot exported",
        extra={
            "snapshot_id": snapshot.pk,
            "snapshot_key": export.snapshot_key,
            "shards": len(shards),
            "conversations": snapshot.conversation_count,
            "messages": snapshot.message_count,
        },
    )
    listed = {shard.file_name for shard in shards}
    return snapshot, [(target, name) for name in _shard_files(target, export) if name not in listed]


def _shard_files(target, export: SnapshotExport) -> list[str]:
    prefix = storage.shard_prefix(export)
    try:
        _, files = target.listdir(prefix)
    except (FileNotFoundError, NotImplementedError):
        return []
    return [f"{prefix}/{name}" for name in files]


# --- Sweep, and the one-call export --------------------------------------------------------


def snapshot_exports_advance(*, now: datetime | None = None) -> list[int]:
    """Finalise running exports whose shards are all done; return shards to send again.

    A shard neither done nor started within the lease of its last sending, or started
    longer than the lease ago, lost its task (a broker restart, a worker killed before the
    message was acknowledged). It is marked sent now and returned for the caller to send.
    """
    now = now or timezone.now()
    expired = now - shard_lease()
    resend: list[int] = []
    for export_id in SnapshotExport.objects.filter(status=ExportStatus.RUNNING).values_list(
        "pk", flat=True
    ):
        outstanding = SnapshotShard.objects.filter(export_id=export_id).exclude(
            status=ShardStatus.DONE
        )
        if not outstanding.exists():
            snapshot_export_finalise(export_id=export_id)
            continue
        with transaction.atomic():
            lost = list(
                outstanding.select_for_update(skip_locked=True)
                .filter(_lost_q(expired))
                .values_list("pk", flat=True)
            )
            SnapshotShard.objects.filter(pk__in=lost).update(dispatched_at=now)
        resend.extend(lost)
    return resend


def _lost_q(expired: datetime) -> Q:
    """Shards whose task is presumed lost: never sent, sent or started before ``expired``."""
    pending = Q(status=ShardStatus.PENDING)
    never_sent = pending & Q(dispatched_at__isnull=True)
    sent_long_ago = pending & Q(dispatched_at__lt=expired)
    started_long_ago = Q(status=ShardStatus.RUNNING, started_at__lt=expired) & (
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=expired)
    )
    return never_sent | sent_long_ago | started_long_ago


def training_snapshot_export(
    *,
    out_path: str | os.PathLike | None = None,
    now: datetime | None = None,
    created_by=None,
    snapshot_key: str | None = None,
    batch_size: int = EXPORT_BATCH_SIZE,
    shard_size: int | None = None,
    file_format: str = ShardFormat.JSONL_GZ,
) -> TrainingSnapshot:
    """Plan, write every shard in this process and finalise: one export, inline.

    ``out_path`` puts the manifest (and the shards beside it) at that path on this
    machine instead of the export storage. A rerun with the key of a finished snapshot
    returns it.
    """
    if snapshot_key is not None:
        done = TrainingSnapshot.objects.filter(snapshot_key=snapshot_key).first()
        if done is not None:
            return done
    export = snapshot_export_plan(
        snapshot_key=snapshot_key,
        now=now,
        created_by=created_by,
        out_path=out_path,
        shard_size=shard_size,
        file_format=file_format,
    )
    for shard_id in export.shards.exclude(status=ShardStatus.DONE).values_list("pk", flat=True):
        snapshot_shard_write(shard_id=shard_id, worker="inline", batch_size=batch_size)
    snapshot = snapshot_export_finalise(export_id=export.pk)
    if snapshot is None:
        export.refresh_from_db()
        raise TrainingExportError(export.error or errors.POLICY_CHANGED)
    return snapshot


@transaction.atomic
def conversation_erasure_record(*, conversation_id: int, user_id: int, erased_at: datetime) -> None:
    """Remember when the owner deleted a conversation some snapshot used (for withdrawals).

    Only ledger conversations: the table stays as small as the set of used conversations.
    """
    if not TrainingUse.objects.filter(conversation_id=conversation_id).exists():
        return
    ConversationErasure.objects.get_or_create(
        conversation_id=conversation_id, defaults={"user_id": user_id, "erased_at": erased_at}
    )
