"""Database-level append-only enforcement, shared by every immutable table.

A rule held only in Python is one a second code path will break (STYLE.md):
these triggers refuse UPDATE and DELETE below the ORM, for raw SQL too.
"""

APPEND_ONLY_MESSAGE = "append-only table: rows may be inserted, never updated or deleted"


def _postgres(table: str) -> tuple[list[str], list[str]]:
    function = f"{table}_append_only"
    create = [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        BEGIN
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
        # TRUNCATE bypasses row triggers; refuse it as well.
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
    create = [
        f"""
        CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
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


def _statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        return _postgres(table)
    if vendor == "sqlite":
        return _sqlite(table)
    raise NotImplementedError(f"No append-only trigger for the {vendor} backend.")


def append_only_operations(app_label: str, model_name: str):
    """A (forward, reverse) pair for migrations.RunPython."""

    def forward(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        for sql in _statements(schema_editor.connection.vendor, table)[0]:
            schema_editor.execute(sql, params=None)  # None: the trigger SQL has literal % signs

    def reverse(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        for sql in _statements(schema_editor.connection.vendor, table)[1]:
            schema_editor.execute(sql, params=None)  # None: the trigger SQL has literal % signs

    return forward, reverse
