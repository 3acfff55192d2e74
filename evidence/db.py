"""Append-only triggers for the evidence tables, below the ORM (for raw SQL too).

The trigger SQL is ``config.append_only``, shared with consent; the log's one permitted
update is the sequencer's: a leaf index written once into an entry that had none, with
every other column unchanged. Any other UPDATE, any DELETE and TRUNCATE are refused.
"""

from config.append_only import append_only_operations as shared_operations
from config.append_only import trigger_statements as shared_trigger_statements

# Columns that must not change when the sequencer assigns an entry's leaf index.
LOG_ENTRY_FIXED_COLUMNS = ("id", "kind", "object_id", "leaf_hash", "created_at")
LOG_ENTRY_TABLE = "evidence_logentry"


def _sequencing_only(old: str, new: str) -> str:
    """SQL true when an UPDATE only fills in a missing leaf index."""
    same = " AND ".join(
        f"{new}.{column} IS NOT DISTINCT FROM {old}.{column}" for column in LOG_ENTRY_FIXED_COLUMNS
    )
    return f"{old}.leaf_index IS NULL AND {new}.leaf_index IS NOT NULL AND {same}"


def trigger_statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements for one evidence table on this database."""
    allow = _sequencing_only("OLD", "NEW") if table == LOG_ENTRY_TABLE else None
    return shared_trigger_statements(vendor, table, allow_update_when=allow)


def append_only_operations(model_name: str):
    """A (forward, reverse) pair for migrations.RunPython."""
    return shared_operations("evidence", model_name, statements=trigger_statements)
