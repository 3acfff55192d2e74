"""Database-level append-only enforcement, shared by every immutable table of every app.

A rule held only in Python is one a second code path will break (STYLE.md): these
triggers refuse UPDATE, DELETE and TRUNCATE below the ORM, for raw SQL too. A table may
permit one narrow kind of UPDATE (``allow_update_when``: an SQL condition over OLD and NEW,
written for PostgreSQL), as the evidence log does for its sequencer.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

APPEND_ONLY_MESSAGE = "append-only table: rows may be inserted, never updated or deleted"

Statements = Callable[[str, str], tuple[list[str], list[str]]]


def _postgres(table: str, allow_update_when: str | None) -> tuple[list[str], list[str]]:
    function = f"{table}_append_only"
    allow = ""
    if allow_update_when:
        allow = f"IF TG_OP = 'UPDATE' AND {allow_update_when} THEN RETURN NEW; END IF;"
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


def _sqlite(table: str, allow_update_when: str | None) -> tuple[list[str], list[str]]:
    when = ""
    if allow_update_when:
        # SQLite spells IS NOT DISTINCT FROM as IS.
        when = f"WHEN NOT ({allow_update_when.replace('IS NOT DISTINCT FROM', 'IS')})"
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


def trigger_statements(
    vendor: str, table: str, *, allow_update_when: str | None = None
) -> tuple[list[str], list[str]]:
    """(create, drop) statements for one append-only table on this database."""
    if vendor == "postgresql":
        return _postgres(table, allow_update_when)
    if vendor == "sqlite":
        return _sqlite(table, allow_update_when)
    # The evidence tables are append-only only where a trigger makes them so: refuse to
    # migrate a database this project cannot protect rather than leave them writable.
    raise ImproperlyConfigured(
        f"Append-only tables need PostgreSQL or SQLite; {vendor} is not supported."
    )


def append_only_operations(
    app_label: str, model_name: str, *, statements: Statements | None = None
):
    """A (forward, reverse) pair for migrations.RunPython."""
    statements_for = statements or trigger_statements

    def forward(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        for sql in statements_for(schema_editor.connection.vendor, table)[0]:
            schema_editor.execute(sql, params=None)  # None: the trigger SQL has literal % signs

    def reverse(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        for sql in statements_for(schema_editor.connection.vendor, table)[1]:
            schema_editor.execute(sql, params=None)

    return forward, reverse
