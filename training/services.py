"""Training snapshot export (DESIGN §4 rule 1).

An export runs in two phases:

1. Build: eligible conversations are read in keyset batches (with their messages, one
   query per batch), every message is redacted, and each conversation becomes one JSON
   line in a temporary file next to the target. Nothing unredacted is ever written.
2. Finalise, in one transaction: eligibility is checked again (anyone who opted out,
   was pseudonymised or deleted a conversation while the file was being built drops
   out, and the file is filtered to match), the snapshot row and every ledger row are
   inserted, and the file is renamed into place. The digest in the row is the digest of
   the file on disk, and no reader ever sees a half-written file or a snapshot without
   its ledger.

Reruns: ``snapshot_key`` is an idempotency key. A rerun with the key of a finished
snapshot returns that snapshot and writes nothing; a run that crashed before committing
left no rows behind, so a rerun with its key simply exports again. Two runs racing on one
key both build, and the unique key lets exactly one commit (and rename its file); the
other discards its file and returns the winner's snapshot. Without a key every run is a
new snapshot: a new dataset, so a new use, recorded as such.
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
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.pseudonyms import user_pseudonym as pseudonym
from consent.evidence import state_mismatches_report
from consent.selectors import current_policy
from conversations.models import Conversation, Message, Role
from conversations.services import TITLE_LENGTH

from . import errors
from .errors import TrainingExportError
from .models import TrainingSnapshot, TrainingUse
from .redaction import REDACTION_VERSION, redact
from .selectors import eligible_conversations

logger = logging.getLogger(__name__)

EXPORT_BATCH_SIZE = 500
# Ids per "still eligible?" query (one id range each).
RECHECK_CHUNK_SIZE = 2000
# Phone numbers written without +CC are read in the owner's country, else in this region.
DEFAULT_REGION = "US"
PSEUDONYM_SALT = "training.pseudonym"
SNAPSHOT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def user_pseudonym(user_id: int) -> str:
    """The stable pseudonymous id of a user in training files: HMAC-SHA256 of the id.

    Keyed by ``TRAINING_PSEUDONYM_KEY`` (falling back to ``SECRET_KEY``); ``salted_hmac``
    derives a purpose-specific key, so the raw secret is never the HMAC key. Rotating the
    key changes every pseudonym, which unlinks users across snapshots.
    """
    secret = getattr(settings, "TRAINING_PSEUDONYM_KEY", "") or settings.SECRET_KEY
    return pseudonym(user_id, purpose=PSEUDONYM_SALT, secret=secret)


def default_export_path(snapshot_key: str) -> Path:
    export_dir = Path(
        getattr(settings, "TRAINING_EXPORT_DIR", settings.BASE_DIR / "var" / "exports")
    )
    return export_dir / f"training-{snapshot_key}.jsonl"


@dataclass(frozen=True)
class _Entry:
    """What the ledger needs of one line written to the file."""

    conversation_id: int
    user_id: int
    consent_record_id: object
    content_sha256: str
    title: str
    message_count: int
    redaction: dict[str, int]


def _exported_title(messages: list[dict[str, str]]) -> str:
    """The title as the file shows it: cut from the first *redacted* user message."""
    first = next((m["text"] for m in messages if m["role"] == Role.USER), "")
    return " ".join(first.split())[:TITLE_LENGTH]


def _build(handle, *, now: datetime, batch_size: int) -> list[_Entry]:
    """Write every eligible conversation, redacted, as one JSON line; return the ledger."""
    entries: list[_Entry] = []
    pseudonyms: dict[int, str] = {}
    eligible = eligible_conversations(now=now).order_by("pk")
    for lower, upper in _id_windows(batch_size):
        window = eligible.filter(pk__gt=lower)
        if upper is not None:
            window = window.filter(pk__lte=upper)
        batch = list(window.values_list("pk", "user_id", "user__country", "covered_by_id"))
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
            handle.write(line + b"\n")
            entries.append(
                _Entry(
                    conversation_id=conversation_id,
                    user_id=user_id,
                    consent_record_id=covered_by_id,
                    content_sha256=hashlib.sha256(line).hexdigest(),
                    title=_exported_title(messages),
                    message_count=len(messages),
                    redaction=dict(totals),
                )
            )

    return entries


def _id_windows(size: int) -> Iterator[tuple[int, int | None]]:
    """Consecutive ``(lower, upper]`` ranges of ``size`` conversation ids, the last open.

    Bounded ranges rather than ``pk > last LIMIT n`` over the eligibility join: each query
    then reads only its own ids instead of sorting everything after ``last``, whatever
    plan the joins get. Finding a bound is an index-only scan of the primary key.
    """
    lower = 0
    while True:
        bound = list(
            Conversation.objects.filter(pk__gt=lower)
            .order_by("pk")
            .values_list("pk", flat=True)[size - 1 : size]
        )
        if not bound:
            yield lower, None
            return
        yield lower, bound[0]
        lower = bound[0]


def _still_eligible(conversation_ids: list[int], *, now: datetime) -> set[int]:
    """Which of the (ascending) ids are eligible now; one range query per chunk."""
    eligible = eligible_conversations(now=now)
    keep: set[int] = set()
    for start in range(0, len(conversation_ids), RECHECK_CHUNK_SIZE):
        chunk = conversation_ids[start : start + RECHECK_CHUNK_SIZE]
        found = eligible.filter(pk__gte=chunk[0], pk__lte=chunk[-1]).values_list("pk", flat=True)
        keep.update(set(found).intersection(chunk))
    return keep


def _drop_lines(path: Path, entries: list[_Entry], keep: set[int]) -> list[_Entry]:
    """Rewrite the temporary file without the lines of conversations no longer eligible."""
    kept: list[_Entry] = []
    filtered = path.with_name(path.name + ".filtered")
    with path.open("rb") as source, filtered.open("wb") as target:
        for entry, line in zip(entries, source, strict=True):
            if entry.conversation_id in keep:
                target.write(line)
                kept.append(entry)
        target.flush()
        os.fsync(target.fileno())
    os.replace(filtered, path)
    return kept


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_target(out_path: Path) -> None:
    if TrainingSnapshot.objects.filter(file_name=str(out_path)).exists():
        raise TrainingExportError(errors.FILE_BELONGS_TO_SNAPSHOT)


def training_snapshot_export(
    *,
    out_path: str | os.PathLike,
    now: datetime | None = None,
    created_by=None,
    snapshot_key: str | None = None,
    batch_size: int = EXPORT_BATCH_SIZE,
) -> TrainingSnapshot:
    """Export every eligible conversation, redacted, to ``out_path`` (JSON Lines).

    Not one transaction end to end: building the file can take minutes and must not hold
    locks meanwhile. The part that has to be atomic (recheck, rows, rename) is; see the
    module docstring for reruns.
    """
    if snapshot_key is None:
        snapshot_key = secrets.token_hex(16)
    if not SNAPSHOT_KEY.match(snapshot_key):
        raise TrainingExportError(errors.INVALID_SNAPSHOT_KEY)
    existing = TrainingSnapshot.objects.filter(snapshot_key=snapshot_key).first()
    if existing is not None:
        return existing
    out_path = Path(out_path).resolve()
    _check_target(out_path)
    selected_at = now or timezone.now()
    if current_policy(now=selected_at) is None:
        raise TrainingExportError(errors.NO_POLICY)
    # Users whose state row disagrees with their chain are left out by eligibility; say so.
    state_mismatches_report()

    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            entries = _build(handle, now=selected_at, batch_size=batch_size)
            handle.flush()
            os.fsync(handle.fileno())
        return _finalise(
            tmp_path=tmp_path,
            out_path=out_path,
            entries=entries,
            now=now,
            created_by=created_by,
            snapshot_key=snapshot_key,
        )
    finally:
        # Gone after a successful rename; otherwise never leave a stray file behind.
        tmp_path.unlink(missing_ok=True)


@transaction.atomic
def _finalise(
    *,
    tmp_path: Path,
    out_path: Path,
    entries: list[_Entry],
    now: datetime | None,
    created_by,
    snapshot_key: str,
) -> TrainingSnapshot:
    exported_at = now or timezone.now()
    policy = current_policy(now=exported_at)
    if policy is None:
        raise TrainingExportError(errors.NO_POLICY)
    _check_target(out_path)
    keep = _still_eligible([entry.conversation_id for entry in entries], now=exported_at)
    if len(keep) < len(entries):
        logger.info(
            "training export: conversations left eligibility during the build",
            extra={"dropped": len(entries) - len(keep)},
        )
        entries = _drop_lines(tmp_path, entries, keep)
    totals: Counter[str] = Counter()
    for entry in entries:
        totals.update(entry.redaction)
    try:
        with transaction.atomic():
            snapshot = TrainingSnapshot.objects.create(
                snapshot_key=snapshot_key,
                policy=policy,
                created_at=exported_at,
                created_by=created_by,
                conversation_count=len(entries),
                message_count=sum(entry.message_count for entry in entries),
                file_name=str(out_path),
                file_sha256=_sha256_of(tmp_path),
                redaction_version=REDACTION_VERSION,
                redaction_counts=dict(sorted(totals.items())),
            )
    except IntegrityError as exc:
        # Another run with this key committed first: its file and rows are the snapshot.
        winner = TrainingSnapshot.objects.filter(snapshot_key=snapshot_key).first()
        if winner is None:  # the file name was taken by another snapshot meanwhile
            raise TrainingExportError(errors.FILE_BELONGS_TO_SNAPSHOT) from exc
        return winner
    TrainingUse.objects.bulk_create(
        [
            TrainingUse(
                snapshot=snapshot,
                conversation_id=entry.conversation_id,
                user_id=entry.user_id,
                consent_record_id=entry.consent_record_id,
                content_sha256=entry.content_sha256,
                conversation_title=entry.title,
                created_at=exported_at,
            )
            for entry in entries
        ],
        batch_size=1000,
    )
    # Last step before commit: if the commit fails, a rerun overwrites this file.
    os.replace(tmp_path, out_path)
    logger.info(
        "training snapshot exported",
        extra={
            "snapshot_id": snapshot.pk,
            "snapshot_key": snapshot_key,
            "conversations": snapshot.conversation_count,
            "messages": snapshot.message_count,
        },
    )
    return snapshot
