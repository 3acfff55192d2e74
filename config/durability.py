"""Writes nobody relies on until a later write does: committed without waiting for the
disk, or written behind the request by a thread of the process.

A rendering of a consent dialog (consent.ServedNotice) is kept so that the decision made
on it can prove what it showed. PostgreSQL flushes its write-ahead log in order, so the
decision's own commit, which waits for the disk as every other commit does, makes each
serving it links to durable first. What a database crash can lose is only the last
fraction of a second of renderings nobody answered; nothing recorded can point at a
missing row (a foreign key), and nothing is ever corrupted (PostgreSQL's documentation on
``synchronous_commit``: the risk is loss of recent transactions, not inconsistency).

Written behind (``RowsWrittenBehind``), a serving costs the request no statement at all;
the decision answering it inserts it from its signed form if the writer has not yet. A
web process that dies unexpectedly loses the renderings of its last fraction of a second
that nobody answered, as a database crash already could.
"""

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    DataError,
    IntegrityError,
    connections,
    models,
)

from .statements import row_insert, statements_run

logger = logging.getLogger(__name__)


def insert_without_disk_wait(row: models.Model, *, using: str = "default") -> None:
    """Insert ``row`` (unsaved, every field set) in one statement whose commit PostgreSQL
    acknowledges before its log reaches the disk.

    Only in autocommit, where the statement is its own transaction: inside a caller's
    transaction it commits with that one, whose other writes may matter, unchanged. The
    setting is made by the statement itself (``set_config(..., is_local => true)`` in its
    RETURNING), so it costs no round trip and ends with the statement's transaction.
    Other databases insert as usual.
    """
    connection = connections[using]
    suffix = ""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        suffix = " RETURNING set_config('synchronous_commit', 'off', true)"
    # Written on every rendering of a consent screen: its plan is kept (config.statements).
    statements_run([row_insert(row, suffix=suffix, prepared=True, using=using)], using=using)


class RowsWrittenBehind:
    """Rows inserted together by a thread of this process, at most ``window`` seconds after
    they are handed over, instead of one statement each on the request's path.

    For rows nobody reads before a later write that inserts them itself if they are
    missing (consent.services.surfaces: a decision or "Not now" carries its serving in its
    signed form). What a dying process can lose is what it had not written yet: at most
    the last ``window`` seconds of such rows. A clean exit writes them (``atexit``).

    ``window_setting`` names the setting with the window in seconds; 0 inserts each row at
    once (``insert_without_disk_wait``), as tests and SQLite do. A row the database refuses
    (a user deleted meanwhile) is logged by id and dropped alone; a batch the database
    cannot take (an outage) is kept for the next attempt, up to ``limit`` rows.
    """

    def __init__(self, model: type[models.Model], *, window_setting: str, limit: int = 50_000):
        self.model = model
        self.window_setting = window_setting
        self.limit = limit
        self._lock = threading.Lock()
        self._rows: list[models.Model] = []
        self._pid: int | None = None  # the process whose thread writes the rows
        self._writing = threading.Lock()  # one flush at a time: the exit's waits for the thread's
        self._thread: threading.Thread | None = None
        self._stopped: threading.Event | None = None

    def window(self) -> float:
        return float(getattr(settings, self.window_setting))

    def add(self, row: models.Model) -> None:
        if self.window() <= 0:
            insert_without_disk_wait(row)
            return
        with self._lock:
            if self._pid != os.getpid():
                # A forked child inherits its parent's rows (the parent writes them), not
                # its thread.
                self._rows = []
                self._pid = os.getpid()
                self._writer_start()
            self._rows.append(row)

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _writer_start(self) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(self._stopped,),
            name=f"{self.model._meta.label} writer",
            daemon=True,
        )
        self._thread.start()
        atexit.unregister(self.stop)
        atexit.register(self.stop)

    def _run(self, stopped: threading.Event) -> None:
        try:
            while not stopped.wait(max(self.window(), 0.01)):
                try:
                    # As Django does around each request, for this thread's own connection.
                    connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
                    self.flush()
                except Exception:  # the writer must outlive any one failure
                    logger.exception(
                        "rows written behind: a flush failed",
                        extra={"model": self.model._meta.label},
                    )
        finally:
            connections.close_all()  # this thread's own

    def stop(self) -> int:
        """Stop this process's writer and write what it holds (at exit, and in tests);
        returns how many rows that wrote. The next ``add`` starts a writer again."""
        with self._lock:
            thread, stopped = self._thread, self._stopped
            self._thread = self._stopped = None
            self._pid = None
        if thread is not None and stopped is not None:
            stopped.set()
            thread.join(timeout=10)
        return self.flush()

    def flush(self) -> int:
        """Insert every row handed over so far; returns how many were written."""
        with self._writing:
            with self._lock:
                rows, self._rows = self._rows, []
            return self._write(rows) if rows else 0

    def _write(self, rows: list[models.Model]) -> int:
        try:
            # A row also inserted by its answer (or an earlier flush) is already there.
            self.model.objects.bulk_create(rows, ignore_conflicts=True)
            return len(rows)
        except (IntegrityError, DataError):  # some row is refused: find it, write the rest
            return self._one_by_one(rows)
        except DatabaseError:
            self._keep(rows)
            return 0

    def _one_by_one(self, rows: list[models.Model]) -> int:
        written = 0
        for n, row in enumerate(rows):
            try:
                self.model.objects.bulk_create([row], ignore_conflicts=True)
                written += 1
            except (IntegrityError, DataError):
                logger.error(
                    "rows written behind: a row was refused and dropped",
                    extra={"model": self.model._meta.label, "pk": str(row.pk)},
                    exc_info=True,
                )
            except DatabaseError:
                self._keep(rows[n:])
                break
        return written

    def _keep(self, rows: list[models.Model]) -> None:
        """Hold ``rows`` (before any handed over since) for the next attempt."""
        logger.warning(
            "rows written behind: the database is unavailable; kept for the next attempt",
            extra={"model": self.model._meta.label, "rows": len(rows)},
            exc_info=True,
        )
        with self._lock:
            self._rows = rows + self._rows
            dropped = len(self._rows) - self.limit
            if dropped > 0:
                del self._rows[:dropped]  # the oldest go first
        if dropped > 0:
            logger.error(
                "rows written behind: too many rows waiting; the oldest were dropped",
                extra={"model": self.model._meta.label, "rows": dropped},
            )
