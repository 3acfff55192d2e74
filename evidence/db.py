"""Append-only triggers for the evidence tables, below the ORM (for raw SQL too).

Separate from ``consent.db`` because this app sits below consent. The log's one permitted
update is the sequencer's: a leaf index written once into an entry that had none, with
every other column unchanged. Any other UPDATE, any DELETE and TRUNCATE are refused.
"""

APPEND_ONLY_MESSAGE = "append-only table: rows may be inserted, never updated or deleted"

# Columns that must not change when the sequencer assigns an entry's leaf index.
LOG_ENTRY_FIXED_COLUMNS = ("id", "kind", "object_id", "leaf_hash", "created_at")
LOG_ENTRY_TABLE = "evidence_logentry"


def _sequencing_only(old: str, new: str) -> str:
    """SQL true when an UPDATE only fills in a missing leaf index."""
    same = " AND ".join(
        f"{new}.{column} IS NOT DISTINCT FROM {old}.{column}" for column in LOG_ENTRY_FIXED_COLUMNS
    )
    return f"{old}.leaf_index IS NULL AND {new}.leaf_index IS NOT NULL AND {same}"


def _postgres(table: str) -> tuple[list[str], list[str]]:
    function = f"{table}_append_only"
    allow = ""
    if table == LOG_ENTRY_TABLE:
        allow = f"IF TG_OP = 'UPDATE' AND {_sequencing_only('OLD', 'NEW')} THEN RETURN NEW; END IF;"
    create = [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        BEGIN
            {allow}
            RAISE EXCEPTION '%: %', TG_TABLE_NAME, '{APPEND_ONLY_MESSAGE}'
                USING ERRCODE = 'restrict_violation';
        END;
        $$ LANGUAGE plpgsql;
        """,
        f"""
        CREATE TRIGGER {table}_no_update_delete
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}();
        """,
        f"""
        CREATE TRIGGER {table}_no_truncate
            BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {function}();
        """,
    ]
    drop = [
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};",
        f"DROP FUNCTION IF EXISTS {function}();",
    ]
    return create, drop


def _sqlite(table: str) -> tuple[list[str], list[str]]:
    when = ""
    if table == LOG_ENTRY_TABLE:
        # SQLite spells IS NOT DISTINCT FROM as IS.
        when = (
            "WHEN NOT ("
            + _sequencing_only("OLD", "NEW").replace("IS NOT DISTINCT FROM", "IS")
            + ")"
        )
    create = [
        f"""
        CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {when}
        BEGIN SELECT RAISE(ABORT, '{table}: {APPEND_ONLY_MESSAGE}'); END;
        """,
        f"""
        CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table}: {APPEND_ONLY_MESSAGE}'); END;
        """,
    ]
    drop = [
        f"DROP TRIGGER IF EXISTS {table}_no_update;",
        f"DROP TRIGGER IF EXISTS {table}_no_delete;",
    ]
    return create, drop


def trigger_statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements for one evidence table on this database."""
    if vendor == "postgresql":
        return _postgres(table)
    if vendor == "sqlite":
        return _sqlite(table)
    raise NotImplementedError(f"No append-only trigger for the {vendor} backend.")


def append_only_operations(model_name: str):
    """A (forward, reverse) pair for migrations.RunPython."""

    def forward(apps, schema_editor):
        table = apps.get_model("evidence", model_name)._meta.db_table
        for sql in trigger_statements(schema_editor.connection.vendor, table)[0]:
            schema_editor.execute(sql, params=None)  # None: the trigger SQL has literal % signs

    def reverse(apps, schema_editor):
        table = apps.get_model("evidence", model_name)._meta.db_table
        for sql in trigger_statements(schema_editor.connection.vendor, table)[1]:
            schema_editor.execute(sql, params=None)

    return forward, reverse
