"""One purge at a time, across every worker and machine.

PostgreSQL: session-level advisory locks. A full run takes the purge key
exclusively; a chunk run takes it *shared* plus its own chunk key exclusively,
so chunks of one plan run side by side while a full run excludes them all.
The server drops a session's advisory locks when the connection dies, so a
killed worker never leaves a stale lock. (They need a real session: behind
PgBouncer in transaction mode, point the workers at PostgreSQL directly.)

Elsewhere (SQLite): a lease row in ``PurgeLock``. Creating the row takes the
lock; a lapsed lease may be taken over with one conditional UPDATE; every batch
renews it. SQLite runs one writer at a time anyway, so full and chunk runs are
not made to exclude each other there: their deletes are idempotent.
"""

import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import errors
from .models import PurgeLock

# pg_advisory_lock's single-bigint key space; "RETAIN" in ASCII, so it reads in pg_locks.
PURGE_ADVISORY_KEY = int.from_bytes(b"RETAIN", "big")
LEASE_TTL = timedelta(minutes=15)

# Advisory locks are re-entrant within one session; a purge started from inside a
# purge (same thread, same connection) must still see the lock as taken.
_held = threading.local()


class LeaseLost(RuntimeError):
    def __init__(self) -> None:
        super().__init__(errors.LEASE_LOST)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _chunk_key(id_range: tuple[int, int]) -> int:
    digest = hashlib.blake2b(f"retention-chunk:{id_range[0]}:{id_range[1]}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _lock_name(id_range: tuple[int, int] | None) -> str:
    return "retention-purge" if id_range is None else f"retention-purge:{id_range[0]}-{id_range[1]}"


class PurgeLockHandle:
    """What the purge holds while it runs; ``renew`` is called once per batch."""

    def __init__(
        self,
        id_range: tuple[int, int] | None,
        *,
        lease_name: str | None = None,
        holder: str = "",
        excludes_every_chunk: bool = False,
    ) -> None:
        self.id_range = id_range
        self.lease_name = lease_name
        self.holder = holder
        self.excludes_every_chunk = excludes_every_chunk

    def runs_excluded_q(self) -> Q:
        """The purge runs (``RetentionRun``) that cannot be running while this lock is held.

        A full run's advisory lock excludes every chunk run too (the shared purge key); a
        lease, or a chunk's lock, only runs over the same range.
        """
        if self.excludes_every_chunk:
            return Q()
        lo, hi = self.id_range or (None, None)
        return Q(id_range_lo=lo, id_range_hi=hi)

    def renew(self) -> None:
        if self.lease_name is None:
            return  # Advisory locks last as long as the session.
        renewed = PurgeLock.objects.filter(name=self.lease_name, holder=self.holder).update(
            expires_at=timezone.now() + LEASE_TTL
        )
        if not renewed:
            raise LeaseLost()


@contextmanager
def purge_lock(id_range: tuple[int, int] | None = None) -> Iterator[PurgeLockHandle | None]:
    """Yield a handle when this process may purge ``id_range`` (None: everything), else None."""
    held: set[str] = _held.__dict__.setdefault("names", set())
    name = _lock_name(id_range)
    if name in held or (id_range is not None and _lock_name(None) in held):
        yield None
        return
    take = _advisory_lock if connection.vendor == "postgresql" else _lease
    with take(id_range) as handle:
        if handle is None:
            yield None
            return
        held.add(name)
        try:
            yield handle
        finally:
            held.discard(name)


@contextmanager
def _advisory_lock(id_range: tuple[int, int] | None) -> Iterator[PurgeLockHandle | None]:
    if id_range is None:
        wanted = [("pg_try_advisory_lock", "pg_advisory_unlock", PURGE_ADVISORY_KEY)]
    else:
        wanted = [
            ("pg_try_advisory_lock_shared", "pg_advisory_unlock_shared", PURGE_ADVISORY_KEY),
            ("pg_try_advisory_lock", "pg_advisory_unlock", _chunk_key(id_range)),
        ]
    taken: list[tuple[str, int]] = []
    try:
        with connection.cursor() as cursor:
            for lock, unlock, key in wanted:
                cursor.execute(f"SELECT {lock}(%s)", [key])
                if not cursor.fetchone()[0]:
                    break
                taken.append((unlock, key))
        handle = PurgeLockHandle(id_range, excludes_every_chunk=id_range is None)
        yield handle if len(taken) == len(wanted) else None
    finally:
        _advisory_unlock(taken)


def _advisory_unlock(taken: list[tuple[str, int]]) -> None:
    try:
        with connection.cursor() as cursor:
            for unlock, key in reversed(taken):
                cursor.execute(f"SELECT {unlock}(%s)", [key])
    except DatabaseError:
        # The session is unusable (an aborted outer transaction, a lost server):
        # closing it is what releases its advisory locks.
        connection.close()


@contextmanager
def _lease(id_range: tuple[int, int] | None) -> Iterator[PurgeLockHandle | None]:
    name = _lock_name(id_range)
    holder = f"{worker_name()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    if not _lease_take(name, holder):
        yield None
        return
    try:
        yield PurgeLockHandle(id_range, lease_name=name, holder=holder)
    finally:
        PurgeLock.objects.filter(name=name, holder=holder).delete()


def _lease_take(name: str, holder: str) -> bool:
    now = timezone.now()
    try:
        with transaction.atomic():
            PurgeLock.objects.create(
                name=name, holder=holder, acquired_at=now, expires_at=now + LEASE_TTL
            )
        return True
    except IntegrityError:
        # Held: take it over only if the holder stopped renewing (crashed).
        return bool(
            PurgeLock.objects.filter(name=name, expires_at__lte=now).update(
                holder=holder, acquired_at=now, expires_at=now + LEASE_TTL
            )
        )
