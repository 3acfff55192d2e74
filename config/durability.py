"""Writes nobody relies on until a later write does: committed without waiting for the disk.

A rendering of a consent dialog (consent.ServedNotice) is kept so that the decision made
on it can prove what it showed. PostgreSQL flushes its write-ahead log in order, so the
decision's own commit, which waits for the disk as every other commit does, makes each
serving it links to durable first. What a database crash can lose is only the last
fraction of a second of renderings nobody answered; nothing recorded can point at a
missing row (a foreign key), and nothing is ever corrupted (PostgreSQL's documentation on
``synchronous_commit``: the risk is loss of recent transactions, not inconsistency).
"""

from django.db import connections, models

from .statements import row_insert, statements_run


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
