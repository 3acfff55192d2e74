"""Several writes sent to the database in one round trip.

A consent decision writes five rows in its transaction: the record, its evidence-log leaf,
the user's state, and the outbox's sequence and event. Through the ORM each is a statement
of its own, compiled in Python and answered before the next is sent, which was a large
part of what a decision POST cost (bench/load.py, bench/README.md). Here each row becomes one
INSERT built from the model's fields, and ``statements_run`` sends them together: on
PostgreSQL as one simple query (several statements in one message, which the server runs
in order, each with its own snapshot, in the caller's transaction), elsewhere one by one.

Like ``bulk_create``, a row is written as it is: no ``save()``, no signals, every field
set by the caller (an auto-incremented key left unset is the database's to fill).

A statement whose text never changes may be ``prepared``: on PostgreSQL it is planned once
per connection (SQL ``PREPARE``, in a round trip of its own the first time) and the batch,
even a batch of one, carries ``EXECUTE name(values)``. A simple query cannot use the
protocol's prepared statements, and planning a read that joins several tables cost the
database more than running it. Like the server-side binding in config.settings, this
needs a connection that stays one server session (no transaction pooling);
``DATABASE_SERVER_SIDE_BINDING=false`` turns both off.
"""

import functools
import hashlib
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connections, models
from psycopg import ClientCursor


@dataclass(frozen=True)
class Statement:
    """One SQL statement with ``%s`` placeholders (a literal percent sign is ``%%``), and the
    row it inserts, if any."""

    sql: str
    params: tuple = ()
    row: models.Model | None = field(default=None, compare=False)
    prepared: bool = False  # the same text every time: PostgreSQL may keep its plan


def row_insert(
    row: models.Model,
    *,
    values_sql: dict[str, Statement] | None = None,
    suffix: str = "",
    prepared: bool = False,
    using: str = "default",
) -> Statement:
    """The INSERT of an unsaved ``row``, every concrete field as set.

    ``values_sql`` gives a column (by field name) an SQL expression instead of the row's
    value, e.g. a number the database reads from another row; ``suffix`` follows the
    VALUES list (``ON CONFLICT ...``, ``RETURNING ...``). ``prepared``: see the module.
    """
    connection = connections[using]
    values_sql = values_sql or {}
    meta = row._meta
    skip_auto = meta.auto_field is not None and getattr(row, meta.auto_field.attname) is None
    expressions = tuple(sorted((name, expression.sql) for name, expression in values_sql.items()))
    sql, fields = _insert_layout(
        type(row), connection.vendor, using, skip_auto, expressions, suffix
    )
    params = []
    for model_field in fields:
        expression = values_sql.get(model_field.name)
        if expression is not None:
            params.extend(expression.params)
        else:
            value = getattr(row, model_field.attname)
            params.append(model_field.get_db_prep_save(value, connection))
    return Statement(sql, tuple(params), row=row, prepared=prepared)


@functools.lru_cache(maxsize=256)
def _insert_layout(
    model: type[models.Model],
    vendor: str,
    using: str,
    skip_auto: bool,
    expressions: tuple[tuple[str, str], ...],
    suffix: str,
) -> tuple[str, tuple[models.Field, ...]]:
    """A model's INSERT text and the fields its values follow, worked out once per shape:
    the same few shapes are written on every consent screen and decision."""
    connection = connections[using]
    meta = model._meta
    sql_of = dict(expressions)
    fields = tuple(f for f in meta.concrete_fields if not (skip_auto and f is meta.auto_field))
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(sql_of.get(f.name, "%s") for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){suffix}", fields


def statements_run(
    statements: Iterable[Statement | None], *, using: str = "default"
) -> list[tuple] | None:
    """Run ``statements`` in order, in the caller's transaction (None entries are skipped);
    returns the rows of the last one, if it returns rows. The rows they insert count as
    saved afterwards.

    An error in any of them raises as Django's own database errors do; inside
    ``transaction.atomic`` nothing of the batch then remains.
    """
    batch = [statement for statement in statements if statement is not None]
    connection = connections[using]
    if connection.vendor == "postgresql" and (
        len(batch) > 1 or any(statement.prepared for statement in batch)
    ):
        rows = _send_together(connection, batch)
    else:
        with connection.cursor() as cursor:
            for statement in batch:
                cursor.execute(statement.sql, statement.params)
            rows = cursor.fetchall() if cursor.description else None
    for statement in batch:
        if statement.row is not None:
            statement.row._state.adding = False
            statement.row._state.db = using
    return rows


def _send_together(connection, batch: list[Statement]) -> list[tuple] | None:
    """One simple query: psycopg's client-side binding cursor allows several statements in
    one message (the project's server-side binding, config.settings, does not), and a
    simple query is how a plan PREPAREd in SQL is executed."""
    connection.ensure_connection()
    connection.validate_thread_sharing()
    try:
        texts = _texts(connection, batch)
        with _cursor(connection) as cursor:
            cursor.execute(
                ";\n".join(texts), [value for statement in batch for value in statement.params]
            )
            while cursor.nextset():  # to the last statement's result
                pass
            return cursor.fetchall() if cursor.description else None
    except Exception:
        # Whatever broke, ask the server which plans it has before trusting the memo again.
        _prepared.pop(connection.connection, None)
        _unsure.add(connection.connection)
        raise


def _cursor(connection):
    # In Django's wrapper, so errors, query logging and execute wrappers behave as usual.
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    return wrap(ClientCursor(connection.connection))


# The plans each open psycopg connection has prepared (a new connection is a new session,
# with none), and the connections whose memo was dropped after an error.
_prepared: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()
_unsure: "weakref.WeakSet[object]" = weakref.WeakSet()


def _keeps_plans(connection) -> bool:
    """Plans need what server-side binding needs (config.settings): one server session per
    connection. (With a connection per request, a batch's plans cost one round trip.)"""
    return bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


def _texts(connection, batch: list[Statement]) -> list[str]:
    """The statements as the batch sends them: each itself, or the EXECUTE of its plan,
    PREPAREd first if this connection has not yet (all of the batch's in one round trip)."""
    if not _keeps_plans(connection) or not any(statement.prepared for statement in batch):
        return [statement.sql for statement in batch]
    names = {s.sql: "cg_" + hashlib.sha256(s.sql.encode()).hexdigest()[:32] for s in batch}
    known = _prepared.setdefault(connection.connection, set())
    missing = {names[s.sql]: s.sql for s in batch if s.prepared and names[s.sql] not in known}
    if missing and connection.connection in _unsure:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)", [list(missing)]
            )
            known.update(name for (name,) in cursor.fetchall())
        _unsure.discard(connection.connection)
        missing = {name: sql for name, sql in missing.items() if name not in known}
    if missing:
        with _cursor(connection) as cursor:
            cursor.execute(
                ";\n".join(f"PREPARE {name} AS {_numbered(sql)}" for name, sql in missing.items())
            )
        known.update(missing)
    texts = []
    for statement in batch:
        if not statement.prepared:
            texts.append(statement.sql)
        elif statement.params:
            values = ", ".join(["%s"] * len(statement.params))
            texts.append(f"EXECUTE {names[statement.sql]}({values})")
        else:
            texts.append(f"EXECUTE {names[statement.sql]}")
    return texts


def _numbered(sql: str) -> str:
    """``%s`` placeholders as ``$1``, ``$2``, ... and ``%%`` as ``%``, for PREPARE."""
    numbers = iter(range(1, sql.count("%s") + 1))
    return re.sub(r"%[s%]", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
