"""Test-only database backends: flushing between transactional tests lifts the
append-only triggers for the flush and restores them after it.

Production never flushes; these backends are only named in the test settings.
"""

from consent.db import _statements
from evidence.db import trigger_statements as evidence_statements


def append_only_tables(connection) -> list[str]:
    """Tables that carry this project's append-only triggers, read from the catalog."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE %s",
                ["%\\_no\\_update\\_delete"],
            )
        else:
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s ESCAPE '\\'",
                ["%\\_no\\_update"],
            )
        return sorted({row[0] for row in cursor.fetchall()})


def wrap_flush(connection, tables, statements: list[str]) -> list[str]:
    if not statements:
        return statements
    lifted = [t for t in append_only_tables(connection) if t in tables]
    drops, creates = [], []
    for table in lifted:
        # The evidence tables have their own triggers (the log lets the sequencer in once).
        statements_for = evidence_statements if table.startswith("evidence_") else _statements
        create, drop = statements_for(connection.vendor, table)
        drops += drop
        creates += create
    return drops + list(statements) + creates
