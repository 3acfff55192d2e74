"""Path ids are canonical positive integers: other spellings of a number never reach a row."""

import pytest

from api import errors

pytestmark = pytest.mark.django_db

# Each spelling of the id N that a lenient integer parser reads as N (or as another number):
# none may answer about row N, and none may be a 500.
SPELLINGS_OF_N = [
    "{n}.0",
    " {n}",
    "%20{n}",
    "{n}%20",
    "%0A{n}",
    "0{n}",
    "00{n}",
    "+{n}",
    "%2B{n}",
    "{n}e0",
    "{n}_0",
    "{n}.",
    "0x{n}",
]
NEVER_IDS = [
    "-3",
    "0",
    "-0",
    str(2**63),  # one past the largest 64-bit id
    str(2**64),
    "9" * 30,
    "9" * 5000,  # past Python's int-from-text digit limit
    "%D9%A3",  # ARABIC-INDIC DIGIT THREE, which int() reads as 3
    "%EF%BC%93",  # FULLWIDTH DIGIT THREE
    "NaN",
    "inf",
    "true",
]


@pytest.fixture
def owner(person, decide, chat):
    """A user with a record and a conversation: any answer about them would be a 200."""
    user = person()
    decide.opt_in(user)
    return user


@pytest.fixture
def endpoints(owner, chat):
    conversation = chat(owner)
    return {
        "user": ("/api/v1/users/{id}/consent", owner.pk, "user_id"),
        "conversation": (
            "/api/v1/conversations/{id}/training-eligibility",
            conversation.pk,
            "conversation_id",
        ),
    }


def assert_rejected(response, field: str) -> None:
    assert response.status_code in (404, 422), response.content
    body = response.json()
    assert set(body) >= {"code", "detail"}
    if response.status_code == 422:
        assert body["code"] == errors.INVALID_REQUEST
        assert body["errors"][0]["loc"][-1] == field


@pytest.mark.parametrize("kind", ["user", "conversation"])
@pytest.mark.parametrize("spelling", SPELLINGS_OF_N)
def test_other_spellings_of_an_existing_id_are_rejected(api, endpoints, kind, spelling):
    template, n, field = endpoints[kind]

    response = api.get(template.format(id=spelling.format(n=n)))

    assert_rejected(response, field)


@pytest.mark.parametrize("kind", ["user", "conversation"])
@pytest.mark.parametrize("raw", NEVER_IDS)
def test_ids_that_no_row_can_have_are_rejected(api, endpoints, kind, raw):
    template, _n, field = endpoints[kind]

    response = api.get(template.format(id=raw))

    assert_rejected(response, field)


@pytest.mark.parametrize("kind", ["user", "conversation"])
def test_the_canonical_spelling_is_answered(api, endpoints, kind):
    template, n, _field = endpoints[kind]

    response = api.get(template.format(id=n))

    assert response.status_code == 200


@pytest.mark.parametrize("raw", [str(2**63 - 1), "3", "10"])
def test_canonical_ids_without_a_row_are_404_for_users(api, policy, raw):
    response = api.get(f"/api/v1/users/{raw}/consent")

    assert response.status_code == 404
    assert response.json()["code"] == errors.USER_NOT_FOUND
