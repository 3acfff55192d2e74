"""Property-based tests of the served OpenAPI schema (Schemathesis, in-process over WSGI).

Every operation gets generated requests, valid and invalid (negative mode), sent with a
valid token; every response must be no 5xx and must match the schema (status code,
content type, body). Bounded for the normal suite: a few dozen examples per operation.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from training.services import training_snapshot_export

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The real WSGI application, kept inside the test's transaction the way Django's test
    client does it: no closing of "old" connections between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    handler = WSGIHandler()

    def app(environ, start_response):
        # Every WSGI server names the peer (the API limits failed token checks per
        # address); Werkzeug's test client, which Schemathesis drives, does not.
        environ.setdefault("REMOTE_ADDR", "192.0.2.1")
        return handler(environ, start_response)

    try:
        yield app
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def population(person, decide, chat, clock, tmp_path):
    """Real rows with small ids, so generated ids hit existing users, records and chats."""
    opted_in, opted_out, undecided = person(), person(), person()
    records = [decide.opt_in(opted_in), decide.opt_out(opted_out)]
    conversations = [chat(opted_in), chat(opted_out), chat(undecided)]
    # A snapshot with one withdrawn entry, so the withdrawals feed answers with a page.
    training_snapshot_export(snapshot_key="a", out_path=tmp_path / "snapshot.json")
    decide.opt_out(opted_in)
    clock.shift(timedelta(minutes=1))  # past the feed's settling delay
    return {"users": [opted_in, opted_out, undecided], "records": records, "chats": conversations}


@pytest.fixture
def auth_headers(issued, settings):
    settings.API_RATE_LIMIT = "100000/m"  # the fuzzer is not what the limit is for
    return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
def api_schema(wsgi_app, population):
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)


# Every operation the schema serves; the first test fails when one is added without being
# listed here, so the fuzzer never silently skips an endpoint.
OPERATIONS = [
    "/api/v1/users/{user_id}/consent",
    "/api/v1/conversations/{conversation_id}/training-eligibility",
    "/api/v1/receipts/{record_id}",
    "/api/v1/policy/current",
    "/api/v1/snapshots/{snapshot_key}/withdrawals",
]


def test_every_served_operation_is_fuzzed(api_schema):
    served = [
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    ]

    assert sorted(served) == sorted(("GET", path) for path in OPERATIONS)


# pytest 9 dropped the private node attribute Schemathesis' own pytest integration
# (`from_fixture(...).parametrize()`) rewrites, so the cases come from its Hypothesis
# strategies directly: the same generation and the same checks.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("path", OPERATIONS)
def test_api_has_no_server_errors_and_matches_its_schema(api_schema, auth_headers, path, mode):
    strategy = api_schema[path]["GET"].as_strategy(generation_mode=mode)

    @given(case=strategy)
    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,  # the same requests on every run: a CI failure reproduces locally
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def fuzz(case):
        case.call_and_validate(headers=auth_headers, checks=CHECKS)

    fuzz()


def test_answers_about_real_rows_match_the_schema(wsgi_app, population, auth_headers):
    """The generated ids mostly miss; these requests are sure to get each 200 body."""
    served = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)
    user, record, conversation = (
        population["users"][0],
        population["records"][0],
        population["chats"][0],
    )
    requests = [
        ("/api/v1/users/{user_id}/consent", {"user_id": user.pk}),
        ("/api/v1/receipts/{record_id}", {"record_id": str(record.pk)}),
        (
            "/api/v1/conversations/{conversation_id}/training-eligibility",
            {"conversation_id": conversation.pk},
        ),
        ("/api/v1/policy/current", {}),
        ("/api/v1/snapshots/{snapshot_key}/withdrawals", {"snapshot_key": "a"}),
    ]
    for path, parameters in requests:
        case = served[path]["GET"].Case(path_parameters=parameters)

        response = case.call_and_validate(headers=auth_headers, checks=CHECKS)

        assert response.status_code == 200, path


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_wrong_methods_get_the_405_each_operation_documents(
    wsgi_app, population, auth_headers, method
):
    served = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)
    parameters = {
        "/api/v1/users/{user_id}/consent": {"user_id": population["users"][0].pk},
        "/api/v1/receipts/{record_id}": {"record_id": str(population["records"][0].pk)},
        "/api/v1/conversations/{conversation_id}/training-eligibility": {
            "conversation_id": population["chats"][0].pk
        },
        "/api/v1/policy/current": {},
        "/api/v1/snapshots/{snapshot_key}/withdrawals": {"snapshot_key": "a"},
    }
    for path in OPERATIONS:
        case = served[path]["GET"].Case(method=method, path_parameters=parameters[path])

        # Checked against the GET operation's documented answers: 405 and its ErrorOut body.
        response = case.call_and_validate(headers=auth_headers, checks=CHECKS)

        assert (response.status_code, response.headers["allow"]) == (405, ["GET"]), path
