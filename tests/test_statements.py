"""Several writes in one round trip (config.statements): each row written as set, the last
statement's rows returned, errors raised as Django's, and on PostgreSQL one query."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.statements import Statement, row_insert, statements_run
from evidence.models import LogEntry
from webhooks.models import Event

pytestmark = pytest.mark.django_db

LOG_TABLE = LogEntry._meta.db_table


def log_entry(object_id: str, *, kind: str = "test.item") -> LogEntry:
    """An unsaved leaf with its auto-incremented key left to the database."""
    return LogEntry(kind=kind, object_id=object_id, leaf_hash="ab" * 32, created_at=timezone.now())


def leaves_count() -> Statement:
    return Statement(f"SELECT COUNT(*) FROM {LOG_TABLE} WHERE kind = %s", ("test.item",))


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: elsewhere the statements are sent one by one")


# --- What a row's INSERT writes ----------------------------------------------------------


def test_an_unset_auto_increment_key_is_numbered_by_the_database():
    first, second = log_entry("first"), log_entry("second")

    statements_run([row_insert(first), row_insert(second)])

    ids = dict(LogEntry.objects.values_list("object_id", "id"))
    assert set(ids) == {"first", "second"}
    assert all(isinstance(key, int) for key in ids.values())
    assert ids["first"] != ids["second"]


def test_a_set_key_is_written_as_set():
    row = log_entry("keyed")
    row.id = 4242

    statements_run([row_insert(row)])

    assert LogEntry.objects.get(object_id="keyed").id == 4242


def test_a_values_sql_expression_is_written_instead_of_the_rows_value():
    # Given a row whose object_id comes from an SQL expression with a parameter of its own
    row = log_entry("ignored")
    written_at = row.created_at

    statements_run([row_insert(row, values_sql={"object_id": Statement("UPPER(%s)", ("abc",))})])

    # Then the expression's value is stored, and the fields after it keep their own values
    stored = LogEntry.objects.get()
    assert stored.object_id == "ABC"
    assert (stored.kind, stored.leaf_hash, stored.created_at) == (
        "test.item",
        "ab" * 32,
        written_at,
    )


def test_a_suffix_follows_the_values_list():
    statements_run([row_insert(log_entry("once"))])

    rows = statements_run(
        [row_insert(log_entry("once"), suffix=" ON CONFLICT DO NOTHING RETURNING id")]
    )

    assert rows == []
    assert LogEntry.objects.filter(object_id="once").count() == 1


@pytest.mark.parametrize("batch_size", [1, 2], ids=["alone", "batched"])
def test_json_uuid_and_aware_datetime_values_round_trip_exactly(batch_size):
    # Given values that quoting could mangle: a UUID, an aware time with microseconds in a
    # zone other than UTC, JSON with quotes, semicolons, percent signs and non-ASCII text
    occurred_at = datetime(2027, 3, 1, 12, 34, 56, 789012, tzinfo=ZoneInfo("Europe/Berlin"))
    data = {
        "text": 'it\'s; 50% "done" \\ %s ?  ünïcødé 🙂',
        "numbers": [0, -1, 1.5, 0.1, 2**53 + 1],
        "nested": {"none": None, "yes": True, "no": False, "empty": {}, "list": []},
    }
    events = [
        Event(
            id=uuid.uuid4(),
            type="consent.decided",
            subject=f"subject-{n}",
            sequence=1,
            record_id=f"record'; {n} %s",
            record_uuid=uuid.uuid4(),
            occurred_at=occurred_at,
            data=data,
        )
        for n in range(batch_size)
    ]

    # When they are written alone (on PostgreSQL: bound server-side) or in one batch (one
    # query, bound client-side)
    statements_run([row_insert(event) for event in events])

    # Then each reads back equal to what was written
    for event in events:
        stored = Event.objects.get(pk=event.pk)
        assert stored.record_uuid == event.record_uuid
        assert stored.record_id == event.record_id
        assert stored.occurred_at == occurred_at
        assert stored.data == data


# --- What statements_run returns and marks -----------------------------------------------


def test_the_rows_of_the_last_statement_are_returned():
    rows = statements_run(
        [
            row_insert(log_entry("b")),
            row_insert(log_entry("a")),
            Statement(f"SELECT object_id FROM {LOG_TABLE} ORDER BY object_id"),
        ]
    )

    assert rows == [("a",), ("b",)]


def test_a_single_select_returns_its_rows():
    assert statements_run([Statement("SELECT %s", (7,))]) == [(7,)]


def test_nothing_is_returned_when_the_last_statement_returns_no_rows():
    rows = statements_run([Statement("SELECT 1"), row_insert(log_entry("last"))])

    assert rows is None
    assert LogEntry.objects.filter(object_id="last").exists()


def test_none_entries_are_skipped():
    rows = statements_run([None, row_insert(log_entry("kept")), None, leaves_count(), None])

    assert rows == [(1,)]
    assert statements_run([None, None]) is None


def test_inserted_rows_count_as_saved_afterwards():
    rows = [log_entry("one"), log_entry("two")]
    assert all(row._state.adding for row in rows)

    statements_run([row_insert(row) for row in rows])

    assert [(row._state.adding, row._state.db) for row in rows] == [(False, "default")] * 2


def test_each_statement_sees_the_rows_written_before_it_in_the_batch():
    rows = statements_run(
        [row_insert(log_entry("one")), leaves_count(), row_insert(log_entry("two")), leaves_count()]
    )

    assert rows == [(2,)]


# --- Errors -------------------------------------------------------------------------------


def test_an_error_in_the_middle_raises_djangos_integrity_error_and_leaves_none_of_the_batch():
    log_entry("taken").save()

    # When the second of three statements breaks a unique constraint
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        statements_run(
            [
                row_insert(log_entry("before")),
                row_insert(log_entry("taken")),
                row_insert(log_entry("after")),
            ]
        )

    # Then it is Django's error (psycopg's own is not a subclass of it), and nothing remains
    assert type(raised.value).__module__ == "django.db.utils"
    assert sorted(LogEntry.objects.values_list("object_id", flat=True)) == ["taken"]


# --- PostgreSQL: one query ----------------------------------------------------------------


@pytest.mark.postgres
def test_on_postgresql_several_statements_are_one_query():
    postgres_only()

    with CaptureQueriesContext(connection) as captured:
        rows = statements_run(
            [row_insert(log_entry("one")), row_insert(log_entry("two")), leaves_count()]
        )

    assert rows == [(2,)]
    [query] = captured.captured_queries
    assert query["sql"].count("INSERT INTO") == 2
    assert "SELECT COUNT(*)" in query["sql"]


# --- Prepared statements ------------------------------------------------------------------


@pytest.fixture
def plan_text() -> str:
    """PostgreSQL only (plans are PREPAREd there alone), and a text for ``counted_plus`` that
    no earlier test on this connection has prepared."""
    postgres_only()
    return uuid.uuid4().hex


def counted_plus(value: int, *, text: str = "") -> Statement:
    """A read whose text never changes, marked to keep its plan. A connection outlives a
    test, and so do its plans: a test that watches the preparing gives a ``text`` of its own."""
    return Statement(
        f"SELECT COUNT(*) + %s FROM {LOG_TABLE} WHERE kind = %s /* {text} */",
        (value, "test.item"),
        prepared=True,
    )


def sent(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def test_a_prepared_statement_answers_as_written_literal_percent_signs_included():
    rows = statements_run(
        [
            row_insert(log_entry("one")),
            Statement("SELECT CAST(%s AS text) || '%%'", ("50",), prepared=True),
        ]
    )

    assert rows == [("50%",)]
    assert statements_run([row_insert(log_entry("two")), counted_plus(10)]) == [(12,)]


@pytest.mark.postgres
def test_on_postgresql_a_prepared_statement_is_planned_once_then_executed_by_name(plan_text):
    text = plan_text

    # When the same prepared statement is sent twice on one connection
    with CaptureQueriesContext(connection) as first:
        rows = statements_run([row_insert(log_entry("one")), counted_plus(10, text=text)])
        assert rows == [(11,)]
    with CaptureQueriesContext(connection) as second:
        rows = statements_run([row_insert(log_entry("two")), counted_plus(10, text=text)])
        assert rows == [(12,)]

    # Then the first time prepares it (one PREPARE) and executes it in the batch
    [preparing] = [sql for sql in sent(first) if sql.startswith("PREPARE")]
    name = preparing.split()[1]
    batch = sent(first)[-1]
    assert f"EXECUTE {name}(" in batch and "COUNT(*)" not in batch
    # And the second time is the batch alone, executing the same plan
    [again] = sent(second)
    assert f"EXECUTE {name}(" in again
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_prepared_statements WHERE name = %s", [name])
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_the_plans_a_batch_needs_are_prepared_together_in_one_round_trip(plan_text):
    text = plan_text
    statements_run([row_insert(log_entry("one"))])

    with CaptureQueriesContext(connection) as captured:
        rows = statements_run([counted_plus(1, text=f"a{text}"), counted_plus(2, text=f"b{text}")])

    assert rows == [(3,)]
    [preparing] = [sql for sql in sent(captured) if sql.startswith("PREPARE")]
    assert preparing.count("PREPARE cg_") == 2
    assert sent(captured)[-1].count("EXECUTE cg_") == 2


@pytest.mark.postgres
def test_after_a_failed_batch_the_server_is_asked_again_and_nothing_is_prepared_twice():
    postgres_only()
    statements_run([row_insert(log_entry("first")), counted_plus(0)])
    log_entry("taken").save()

    # Given a batch with the prepared statement that fails, and is rolled back
    with pytest.raises(IntegrityError), transaction.atomic():
        statements_run([counted_plus(0), row_insert(log_entry("taken"))])

    # When it is sent again
    with CaptureQueriesContext(connection) as captured:
        rows = statements_run([row_insert(log_entry("second")), counted_plus(0)])

    # Then the server is asked, which still has it (PREPARE outlives a rollback), and
    # the statement is not prepared again (a second PREPARE of a name is an error)
    assert rows == [(3,)]
    *checks, batch = sent(captured)
    assert len(checks) == 1 and "pg_prepared_statements" in checks[0]
    assert "EXECUTE cg_" in batch


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again(plan_text):
    text = plan_text
    statements_run([row_insert(log_entry("one")), counted_plus(0, text=text)])

    connection.close()
    with CaptureQueriesContext(connection) as captured:
        rows = statements_run([row_insert(log_entry("two")), counted_plus(0, text=text)])

    # Then it is prepared again, without asking the server: a new session has no plans
    assert rows == [(2,)]
    assert [sql.split()[0] for sql in sent(captured)] == ["PREPARE", "INSERT"]


@pytest.mark.postgres
def test_a_plan_the_server_dropped_fails_one_batch_and_is_prepared_again(plan_text):
    text = plan_text
    statements_run([row_insert(log_entry("one")), counted_plus(0, text=text)])

    # Given the server forgot its plans (DEALLOCATE ALL, as a pooler resetting sessions does)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(ProgrammingError), transaction.atomic():
        statements_run([row_insert(log_entry("lost")), counted_plus(0, text=text)])

    # When the statement is sent again
    with CaptureQueriesContext(connection) as captured:
        rows = statements_run([row_insert(log_entry("two")), counted_plus(0, text=text)])

    # Then the server is asked, and the plan it no longer has is prepared again
    assert rows == [(2,)]
    check, preparing, _batch = sent(captured)
    assert "pg_prepared_statements" in check and preparing.startswith("PREPARE cg_")


@pytest.mark.postgres
def test_a_failed_prepare_leaves_no_plan_behind_that_the_memo_does_not_know(plan_text):
    text = plan_text
    statements_run([row_insert(log_entry("one"))])
    broken = Statement(f"SELECT no_such_column FROM {LOG_TABLE} /* {text} */", prepared=True)

    # Given a batch whose first plan is prepared and whose second cannot be
    with pytest.raises(ProgrammingError), transaction.atomic():
        statements_run([counted_plus(0, text=text), broken])

    # Then the first statement still runs (its PREPARE outlived the error: not repeated)
    assert statements_run([row_insert(log_entry("two")), counted_plus(0, text=text)]) == [(2,)]


@pytest.mark.postgres
def test_without_server_side_binding_a_prepared_statement_is_sent_as_written(monkeypatch):
    postgres_only()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", False)

    with CaptureQueriesContext(connection) as captured:
        rows = statements_run([row_insert(log_entry("one")), counted_plus(5)])

    assert rows == [(6,)]
    [batch] = sent(captured)
    assert "EXECUTE" not in batch and "COUNT(*) + 5" in batch


@pytest.mark.postgres
def test_on_postgresql_a_prepared_statement_alone_is_also_executed_by_name(plan_text):
    text = plan_text
    statements_run([row_insert(log_entry("one"))])

    with CaptureQueriesContext(connection) as captured:
        assert statements_run([counted_plus(1, text=text)]) == [(2,)]
        assert statements_run([counted_plus(2, text=text)]) == [(3,)]

    [preparing] = [sql for sql in sent(captured) if sql.startswith("PREPARE")]
    name = preparing.split()[1]
    executed = [sql for sql in sent(captured) if sql.startswith("EXECUTE")]
    assert len(executed) == 2 and all(sql.startswith(f"EXECUTE {name}(") for sql in executed)


def test_rows_of_one_model_with_and_without_a_key_are_written_in_one_batch():
    keyed, numbered = log_entry("keyed"), log_entry("numbered")
    keyed.id = 777

    statements_run([row_insert(numbered), row_insert(keyed), row_insert(log_entry("again"))])

    ids = dict(LogEntry.objects.values_list("object_id", "id"))
    assert ids["keyed"] == 777
    assert len(set(ids.values())) == 3
