"""The id lists the purge's raw SQL binds: exactly the ids selected, nothing smuggled in.

Coverage is measured on SQLite; the PostgreSQL rendering is checked here as text (and runs
for real in every purge test on PostgreSQL).
"""

import pytest
from django.db import connection

from conversations.models import Conversation
from retention.services import _in_ids
from tests.factories import ConversationFactory


def test_postgresql_gets_one_array_parameter_holding_exactly_the_ids():
    sql, params = _in_ids("conversation_id", [7, 3, 12], vendor="postgresql")

    assert sql == "conversation_id = ANY(%s::bigint[])"
    assert params == ["{7,3,12}"]


def test_postgresql_array_refuses_a_value_that_is_not_one_integer():
    # "5,6" spliced into the literal would widen the delete to two conversations.
    with pytest.raises(ValueError):
        _in_ids("id", [4, "5,6"], vendor="postgresql")


def test_other_databases_get_one_placeholder_per_id():
    sql, params = _in_ids("id", [7, 3], vendor="sqlite")

    assert sql == "id IN (%s, %s)"
    assert params == [7, 3]


@pytest.mark.django_db
def test_the_list_for_this_database_selects_exactly_those_rows():
    wanted, _, also_wanted = ConversationFactory.create_batch(3)
    in_ids, params = _in_ids("id", [wanted.pk, also_wanted.pk])
    table = connection.ops.quote_name(Conversation._meta.db_table)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {in_ids} ORDER BY id", params)
        selected = [row[0] for row in cursor.fetchall()]

    assert selected == [wanted.pk, also_wanted.pk]
