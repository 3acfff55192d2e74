"""Wrong methods: a JSON error with a code and an Allow header, documented in the schema."""

import pytest
from django.test import Client

from api import errors

pytestmark = pytest.mark.django_db

OPERATION_PATHS = [
    "/api/v1/users/1/consent",
    "/api/v1/conversations/1/training-eligibility",
    "/api/v1/receipts/00000000-0000-4000-8000-000000000000",
    "/api/v1/policy/current",
    "/api/v1/snapshots/a/withdrawals",
]
DOCUMENT_PATHS = ["/api/v1/openapi.json", "/api/v1/docs"]
WRONG_METHODS = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PURGE"]


def assert_method_not_allowed(response) -> None:
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", WRONG_METHODS)
@pytest.mark.parametrize("path", OPERATION_PATHS + DOCUMENT_PATHS)
def test_wrong_method_is_405_with_allow_header(api, policy, path, method):
    response = api.generic(method, path)

    assert_method_not_allowed(response)


@pytest.mark.parametrize("path", OPERATION_PATHS + DOCUMENT_PATHS)
def test_wrong_method_body_is_the_api_error_shape(api, policy, path):
    response = api.delete(path)

    assert response.json() == {
        "code": errors.METHOD_NOT_ALLOWED,
        "detail": errors.MESSAGES[errors.METHOD_NOT_ALLOWED],
    }


@pytest.mark.parametrize("path", OPERATION_PATHS + DOCUMENT_PATHS)
def test_wrong_method_without_a_token_or_csrf_cookie_is_still_405(path):
    # Django's CSRF check would otherwise answer a bare POST with an HTML 403 first.
    client = Client(enforce_csrf_checks=True)

    response = client.post(path, data="{}", content_type="application/json")

    assert_method_not_allowed(response)
    assert response.json()["code"] == errors.METHOD_NOT_ALLOWED


def test_wrong_method_changes_nothing(api, issued, policy, django_assert_num_queries):
    # Answered before the token is looked up or noted as used.
    with django_assert_num_queries(0):
        response = api.post("/api/v1/policy/current")

    assert response.status_code == 405
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_api_root_answers_a_json_404(api, method):
    response = api.generic(method, "/api/v1/")

    assert response.status_code == 404
    assert response.json()["code"] == errors.NOT_FOUND


def test_every_path_documents_its_405_answer(anonymous_api):
    schema = anonymous_api.get("/api/v1/openapi.json").json()

    for path, operations in schema["paths"].items():
        for operation in operations.values():
            answer = operation["responses"].get("405")
            assert answer is not None, path
            assert answer["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }
