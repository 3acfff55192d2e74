"""Where snapshot files go, and how a shard file is written and read back.

Shards and manifests are written to a Django storage: the ``TRAINING_EXPORT_STORAGE``
alias of ``STORAGES`` (a directory under ``var/exports`` by default; an S3-compatible
bucket through django-storages' ``storages.backends.s3.S3Storage`` in production), or a
directory on this machine for an export run with ``--out``. Every name is deterministic
(export key, shard index, attempt), so a retried write replaces its own attempt's file and
never another's.
"""

import gzip
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from .models import ShardFormat, SnapshotExport, SnapshotShard, TrainingSnapshot

DEFAULT_STORAGE_ALIAS = "training_exports"


def export_storage(location: str = "") -> Storage:
    """The storage of an export: a local directory when given, else the configured alias."""
    if location:
        return FileSystemStorage(location=location)
    alias = getattr(settings, "TRAINING_EXPORT_STORAGE", DEFAULT_STORAGE_ALIAS)
    if alias in settings.STORAGES:
        return storages[alias]
    # No alias configured: the export directory under var/ (the embedded default).
    return FileSystemStorage(location=settings.TRAINING_EXPORT_DIR)


def shard_name(export: SnapshotExport, shard: SnapshotShard, attempt: int) -> str:
    prefix = export.manifest_name.rsplit(".", 1)[0]
    return f"{prefix}.shards/{shard.index:05d}-attempt-{attempt}.{export.file_format}"


def shard_prefix(export: SnapshotExport) -> str:
    return export.manifest_name.rsplit(".", 1)[0] + ".shards"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def encode_shard(lines: Iterable[bytes], *, file_format: str, target: Path) -> None:
    """Write the JSON lines of a shard to ``target`` in the export's format."""
    if file_format == ShardFormat.PARQUET:
        _encode_parquet(lines, target)
        return
    # No name, mtime=0: the same lines always give the same bytes, so the same digest.
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as out,
    ):
        for line in lines:
            out.write(line + b"\n")


def _encode_parquet(lines: Iterable[bytes], target: Path) -> None:
    # pyarrow is an optional extra (pip install '.[parquet]'): about 40 MB that a
    # JSON Lines deployment never needs. Asked for only when Parquet is chosen.
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(line) for line in lines]
    table = pa.Table.from_pylist(
        [
            {
                "conversation_id": row["conversation_id"],
                "user": row["user"],
                "consent_record_id": row["consent_record_id"],
                "messages": row["messages"],
                "redaction": json.dumps(row["redaction"], sort_keys=True),
            }
            for row in rows
        ]
    )
    pq.write_table(table, target, compression="zstd")


def store(storage: Storage, name: str, source: Path) -> None:
    """Put ``source`` at exactly ``name``: a stale copy of the same attempt is replaced."""
    if storage.exists(name):
        storage.delete(name)
    with source.open("rb") as handle:
        saved = storage.save(name, File(handle, name=name))
    if saved != name:  # a racing twin saved first; its bytes are the same lines, drop ours
        storage.delete(saved)


def read_shard(storage: Storage, name: str, *, file_format: str) -> Iterator[dict]:
    """The conversations of one shard file, as dicts (the JSON Lines schema).

    A JSON Lines shard's line bytes are what the ledger's ``content_sha256`` digests
    (``read_shard_lines``); a Parquet shard holds the same fields as columns.
    """
    if file_format == ShardFormat.PARQUET:
        import pyarrow.parquet as pq  # the optional extra; see _encode_parquet

        with storage.open(name, "rb") as handle:
            for row in pq.read_table(handle).to_pylist():
                yield {**row, "redaction": json.loads(row["redaction"])}
        return
    for line in read_shard_lines(storage, name):
        yield json.loads(line)


def read_shard_lines(storage: Storage, name: str) -> Iterator[bytes]:
    """The raw lines (no newline) of a JSON Lines shard."""
    with storage.open(name, "rb") as handle, gzip.GzipFile(fileobj=handle, mode="rb") as lines:
        for line in lines:
            yield line.rstrip(b"\n")


def snapshot_manifest(snapshot: TrainingSnapshot) -> dict:
    export = snapshot.export
    with export_storage(export.location).open(snapshot.file_name, "rb") as handle:
        return json.loads(handle.read())


def snapshot_lines(snapshot: TrainingSnapshot) -> Iterator[dict]:
    """Every conversation of a finished snapshot, shard by shard, each shard's digest checked."""
    export = snapshot.export
    storage = export_storage(export.location)
    for shard in snapshot_manifest(snapshot)["shards"]:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "shard"
            with storage.open(shard["file"], "rb") as source, local.open("wb") as copy:
                shutil.copyfileobj(source, copy)
            if sha256_of(local) != shard["sha256"]:
                raise ValueError(f"shard {shard['index']} does not match its manifest digest")
        yield from read_shard(storage, shard["file"], file_format=export.file_format)
