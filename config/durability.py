"""Writes nobody relies on until a later write does: committed without waiting for the disk.

A rendering of a consent dialog (consent.ServedNotice) is kept so that the decision made
on it can prove what it showed. PostgreSQL flushes its write-ahead log in order, so the
decision's own commit, which waits for the disk as every other commit does, makes each
serving it links to durable first. What a database crash can lose is only the last
fraction of a second of renderings nobody answered; nothing recorded can point at a
missing row (a foreign key), and nothing is ever corrupted (PostgreSQL's documentation on
``synchronous_commit``: the risk is loss of recent transactions, not inconsistency).
"""

from contextlib import contextmanager

from django.db import transaction


@contextmanager
def commit_without_disk_wait(using: str = "default"):
    """A transaction whose commit PostgreSQL acknowledges before its log reaches the disk.

    Only when it is a transaction of its own: inside a caller's transaction the writes join
    that one, whose other writes may matter, unchanged. Other databases commit as usual.
    """
    connection = transaction.get_connection(using)
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield
