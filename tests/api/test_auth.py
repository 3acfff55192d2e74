"""Service tokens: bearer auth, digests at rest, revocation, rate limit, and the consent gate."""

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api import errors
from api.models import ServiceToken
from api.services import service_token_revoke
from tests.consent.factories import PolicyFactory

pytestmark = pytest.mark.django_db


def policy_url() -> str:
    return reverse("api:policy_current")


def test_request_without_a_token_is_401_token_missing(anonymous_api, policy):
    response = anonymous_api.get(policy_url())

    assert response.status_code == 401
    assert response.json() == {
        "code": errors.TOKEN_MISSING,
        "detail": errors.MESSAGES[errors.TOKEN_MISSING],
    }


def test_other_authorization_scheme_is_401_token_missing(policy, issued):
    client = Client(headers={"Authorization": f"Basic {issued.secret}"})

    response = client.get(policy_url())

    assert response.status_code == 401
    assert response.json()["code"] == errors.TOKEN_MISSING


def test_unknown_token_is_401_token_invalid(policy, issued):
    client = Client(headers={"Authorization": f"Bearer {issued.secret}x"})

    response = client.get(policy_url())

    assert response.status_code == 401
    assert response.json()["code"] == errors.TOKEN_INVALID


def test_revoked_token_is_401_token_revoked(api, issued, policy):
    service_token_revoke(token=issued.token)

    response = api.get(policy_url())

    assert response.status_code == 401
    assert response.json()["code"] == errors.TOKEN_REVOKED


def test_valid_token_is_answered(api, policy):
    response = api.get(policy_url())

    assert response.status_code == 200
    assert response.json()["version"] == policy.version


def test_only_the_digest_of_the_secret_is_stored(issued):
    stored = ServiceToken.objects.filter(pk=issued.token.pk).values().get()

    assert stored["secret_sha256"] == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert not any(issued.secret in str(value) for value in stored.values())
    assert issued.secret.startswith(stored["prefix"])


def test_every_issued_secret_is_different(db):
    from api.services import service_token_issue

    secrets = {service_token_issue(name=f"service {n}").secret for n in range(20)}

    assert len(secrets) == 20


def test_authentication_comes_before_validation(anonymous_api):
    response = anonymous_api.get(reverse("api:user_consent", kwargs={"user_id": "not-a-number"}))

    assert response.status_code == 401


def test_a_signed_in_session_is_no_substitute_for_a_token(client, admin_user, decide):
    decide.opt_out(admin_user)  # decided, so the consent gate has nothing to say
    client.force_login(admin_user)

    response = client.get(policy_url())

    assert response.status_code == 401


def test_use_is_noted_on_the_token(api, issued, policy):
    api.get(policy_url())

    issued.token.refresh_from_db()
    assert issued.token.last_used_at == timezone.now()


def test_use_is_noted_at_most_once_a_minute(api, issued, policy, clock, django_assert_num_queries):
    api.get(policy_url())
    clock.shift(timedelta(seconds=30))

    # the token lookup and the policy (read live): no UPDATE of last_used_at
    with django_assert_num_queries(2):
        api.get(policy_url())


def test_revoking_twice_keeps_the_first_revocation_time(issued, clock):
    first = service_token_revoke(token=issued.token).revoked_at
    clock.shift(timedelta(hours=1))

    second = service_token_revoke(token=issued.token).revoked_at

    assert second == first


# --- Rate limit --------------------------------------------------------------------------


def test_token_over_its_rate_limit_gets_429_with_retry_after(api, policy, settings):
    settings.API_RATE_LIMIT = "2/m"
    api.get(policy_url())
    api.get(policy_url())

    response = api.get(policy_url())

    assert response.status_code == 429
    assert response.json() == {
        "code": errors.RATE_LIMITED,
        "detail": errors.MESSAGES[errors.RATE_LIMITED],
    }
    assert 1 <= int(response["Retry-After"]) <= 60


def test_rate_limit_is_counted_per_token(api, policy, settings):
    from api.services import service_token_issue

    settings.API_RATE_LIMIT = "1/m"
    api.get(policy_url())
    other = Client(headers={"Authorization": f"Bearer {service_token_issue(name='b').secret}"})

    assert api.get(policy_url()).status_code == 429
    assert other.get(policy_url()).status_code == 200


def test_unreachable_rate_limit_cache_is_503_with_retry_after_not_a_crash(api, policy, monkeypatch):
    def cache_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr("api.auth.get_usage", cache_down)

    response = api.get(policy_url())

    assert response.status_code == 503
    assert response.json()["code"] == errors.UNAVAILABLE
    assert int(response["Retry-After"]) > 0


# --- The consent gate ---------------------------------------------------------------------


def test_gate_lets_token_requests_through_while_undecided_users_are_locked_out(
    api, person, client, clock
):
    PolicyFactory(
        effective_at=timezone.now() - timedelta(days=40),
        decision_deadline=timezone.now() - timedelta(days=10),
    )
    locked_out = person()
    client.force_login(locked_out)
    assert client.get(reverse("conversations:list")).status_code == 303  # the gate is on

    response = api.get(reverse("api:user_consent", kwargs={"user_id": locked_out.pk}))

    assert response.status_code == 200
    assert response.json()["status"] == "locked_out"


# --- Failed token checks, per client address ------------------------------------------------


@pytest.fixture
def failure_limit(settings):
    settings.API_TOKEN_FAILURE_RATE = "5/m"
    return 5


def guess(address: str = "198.51.100.7", **headers):
    """A client trying a fresh random token, as a brute-forcer would."""
    token = "cgk_" + secrets.token_urlsafe(32)
    return Client(headers={"Authorization": f"Bearer {token}", **headers}, REMOTE_ADDR=address)


def test_brute_forcer_rotating_tokens_from_one_address_gets_429_with_retry_after(
    policy, failure_limit
):
    answers = [guess().get(policy_url()) for _ in range(failure_limit)]
    assert [a.status_code for a in answers] == [401] * failure_limit

    response = guess().get(policy_url())

    assert response.status_code == 429
    assert response.json() == {
        "code": errors.TOKEN_FAILURES_LIMITED,
        "detail": errors.MESSAGES[errors.TOKEN_FAILURES_LIMITED],
    }
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_limited_address_learns_nothing_even_from_a_valid_token(
    policy, issued, failure_limit, django_assert_num_queries
):
    for _ in range(failure_limit + 1):
        guess().get(policy_url())
    valid_from_same_address = Client(
        headers={"Authorization": f"Bearer {issued.secret}"}, REMOTE_ADDR="198.51.100.7"
    )

    with django_assert_num_queries(0):  # no token lookup at all while limited
        response = valid_from_same_address.get(policy_url())

    assert response.status_code == 429


def test_the_address_limit_ends_with_its_window(policy, issued, failure_limit, clock):
    for _ in range(failure_limit + 1):
        guess().get(policy_url())
    clock.shift(timedelta(minutes=2))
    valid_from_same_address = Client(
        headers={"Authorization": f"Bearer {issued.secret}"}, REMOTE_ADDR="198.51.100.7"
    )

    assert valid_from_same_address.get(policy_url()).status_code == 200


def test_other_addresses_are_not_limited_by_one_brute_forcer(policy, issued, failure_limit):
    for _ in range(failure_limit + 1):
        guess("198.51.100.7").get(policy_url())
    service = Client(headers={"Authorization": f"Bearer {issued.secret}"}, REMOTE_ADDR="192.0.2.10")

    assert service.get(policy_url()).status_code == 200
    assert guess("192.0.2.11").get(policy_url()).status_code == 401


def test_a_forged_forwarded_for_header_does_not_reset_the_count(policy, failure_limit):
    # The client address is the peer's (REMOTE_ADDR), as everywhere else in the project.
    for n in range(failure_limit):
        forged = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"203.0.113.{n}"}
        guess(**forged).get(policy_url())

    response = guess(**{"X-Forwarded-For": "203.0.113.200"}).get(policy_url())

    assert response.status_code == 429


def test_rotating_addresses_inside_one_ipv6_network_does_not_reset_the_count(policy, failure_limit):
    for n in range(failure_limit):
        guess(f"2001:db8:1:2::{n + 1:x}").get(policy_url())

    response = guess("2001:db8:1:2:ffff::1").get(policy_url())

    assert response.status_code == 429


def test_revoked_token_checks_count_as_failures(api, issued, policy, failure_limit):
    service_token_revoke(token=issued.token)
    for _ in range(failure_limit):
        assert api.get(policy_url()).json()["code"] == errors.TOKEN_REVOKED

    assert api.get(policy_url()).status_code == 429


def test_successful_checks_do_not_count_towards_the_address_limit(api, policy, failure_limit):
    answers = [api.get(policy_url()).status_code for _ in range(failure_limit * 3)]

    assert answers == [200] * (failure_limit * 3)


def test_revoked_token_is_also_limited_per_token_from_many_addresses(issued, policy, settings):
    settings.API_RATE_LIMIT = "2/m"
    service_token_revoke(token=issued.token)

    def replay(address):
        client = Client(headers={"Authorization": f"Bearer {issued.secret}"}, REMOTE_ADDR=address)
        return client.get(policy_url())

    assert [replay(f"192.0.2.{n}").status_code for n in (1, 2)] == [401, 401]
    response = replay("192.0.2.3")

    assert response.status_code == 429
    assert response.json()["code"] == errors.RATE_LIMITED


def test_unreachable_cache_during_a_failed_check_is_503_not_a_crash(policy, monkeypatch):
    def cache_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr("api.auth.get_usage", cache_down)

    response = guess().get(policy_url())

    assert response.status_code == 503
    assert response.json()["code"] == errors.UNAVAILABLE
