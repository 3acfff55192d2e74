"""The consent gate (DESIGN §4 rule 5) and the notice's deferral rules."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from consent.middleware import ConsentGateMiddleware
from consent.models import ConsentRecord, NoticeDeferral
from consent.selectors import Requirement, current_policy, gate_status

from .conftest import form_token

pytestmark = pytest.mark.django_db

PRODUCT_URL = "/conversations/"


def test_new_user_is_sent_to_the_decision_screen_with_303(client, new_user):
    client.force_login(new_user)

    response = client.get(PRODUCT_URL)

    assert response.status_code == 303
    assert response["Location"].startswith(reverse("consent:decide"))


def test_new_user_cannot_defer_the_first_login_screen(client, new_user):
    client.force_login(new_user)
    token = form_token(client)

    response = client.post(reverse("consent:defer"), {"form_token": token})

    assert response.status_code == 409
    assert not NoticeDeferral.objects.exists()
    assert client.get(PRODUCT_URL).status_code == 303


def test_htmx_request_of_a_blocked_user_gets_hx_redirect(client, new_user):
    client.force_login(new_user)

    response = client.get(PRODUCT_URL, headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == reverse("consent:decide")


def test_json_request_of_a_blocked_user_gets_403_with_a_reason(client, new_user):
    client.force_login(new_user)

    response = client.get(PRODUCT_URL, headers={"Accept": "application/json"})

    assert response.status_code == 403
    body = json.loads(response.content)
    assert body["error"] == "consent_required"
    assert body["reason"] == "first_login"


def test_existing_user_before_deadline_sees_the_notice_over_the_product(
    client, existing_user, policy
):
    client.force_login(existing_user)

    response = client.get(PRODUCT_URL)

    assert response.status_code == 200
    assert b'aria-modal="true"' in response.content
    assert b"Not now" in response.content


def test_not_now_hides_the_notice_for_this_login(client, existing_user, policy):
    client.force_login(existing_user)
    token = form_token(client, PRODUCT_URL)

    response = client.post(reverse("consent:defer"), {"form_token": token, "next": PRODUCT_URL})

    assert response.status_code == 302
    assert NoticeDeferral.objects.filter(user=existing_user, policy=policy).count() == 1
    assert b"Not now" not in client.get(PRODUCT_URL).content


def test_deferred_notice_stays_hidden_for_24_hours_even_after_a_new_login(
    client, existing_user, policy
):
    client.force_login(existing_user)
    client.post(reverse("consent:defer"), {"form_token": form_token(client, PRODUCT_URL)})
    client.logout()

    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        client.force_login(existing_user)
        assert b"Not now" not in client.get(PRODUCT_URL).content


def test_deferred_notice_returns_after_24_hours_and_a_new_login(client, existing_user, policy):
    client.force_login(existing_user)
    client.post(reverse("consent:defer"), {"form_token": form_token(client, PRODUCT_URL)})

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert b"Not now" not in client.get(PRODUCT_URL).content  # same login: still hidden
        client.logout()
        client.force_login(existing_user)
        assert b"Not now" in client.get(PRODUCT_URL).content


def test_deadline_locks_out_undecided_user_the_instant_it_passes(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(seconds=1)):
        client.force_login(existing_user)
        assert client.get(PRODUCT_URL).status_code == 200
    with time_machine.travel(policy.decision_deadline):
        assert client.get(PRODUCT_URL).status_code == 303


def test_deferral_cannot_reach_past_the_deadline(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(hours=1)):
        client.force_login(existing_user)
        client.post(reverse("consent:defer"), {"form_token": form_token(client, PRODUCT_URL)})
        assert NoticeDeferral.objects.get().hidden_until == policy.decision_deadline
    with time_machine.travel(policy.decision_deadline + timedelta(minutes=1)):
        assert client.get(PRODUCT_URL).status_code == 303


def test_not_now_after_the_deadline_is_refused(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(hours=1)):
        client.force_login(existing_user)
        token = form_token(client, PRODUCT_URL)

    with time_machine.travel(policy.decision_deadline + timedelta(minutes=1)):
        response = client.post(reverse("consent:defer"), {"form_token": token})

    assert response.status_code == 409
    assert not NoticeDeferral.objects.exists()


@pytest.mark.parametrize("choice", ["opt_in", "opt_out"])
def test_either_answer_unlocks_after_the_deadline(
    client, existing_user, policy, use_variant, choice
):
    use_variant("two_buttons")
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        token = form_token(client)

        client.post(reverse("consent:decide"), {"form_token": token, "decision": choice})

        assert client.get(PRODUCT_URL).status_code == 200
    assert ConsentRecord.objects.get().surface == "deadline_gate"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/conversations/",
        "/conversations/new/",
        "/settings/privacy/",
        "/consent/receipts/00000000-0000-0000-0000-000000000000/",
    ],
)
def test_locked_out_user_reaches_no_product_page(client, existing_user, policy, url):
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        response = client.get(url)

    assert response.status_code in (302, 303)
    assert (
        reverse("consent:decide") in response["Location"]
        or response["Location"] == "/conversations/"
    )


def test_locked_out_user_cannot_post_to_a_product_endpoint(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        response = client.post("/conversations/new/", {"text": "hello"})

    assert response.status_code == 303
    assert not existing_user.conversations.exists()


@pytest.mark.parametrize("url_name", ["consent:decide", "consent:policy_current"])
def test_locked_out_user_still_reaches_decision_and_policy_text(
    client, existing_user, policy, url_name
):
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        assert client.get(reverse(url_name)).status_code == 200


def test_locked_out_user_can_log_out(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_no_policy_means_no_gate(client, existing_user):
    client.force_login(existing_user)

    assert client.get(PRODUCT_URL).status_code == 200


def test_publishing_a_new_policy_makes_decided_users_undecided(
    client, existing_user, policy, use_variant
):
    from .factories import PolicyFactory

    use_variant("two_buttons")
    client.force_login(existing_user)
    client.post(reverse("consent:decide"), {"form_token": form_token(client), "decision": "opt_in"})
    assert gate_status(user=existing_user).requirement is Requirement.NONE

    PolicyFactory(
        version="2027-01",
        effective_at=timezone.now(),
        decision_deadline=timezone.now() + timedelta(days=14),
    )

    assert gate_status(user=existing_user).requirement is Requirement.NOTICE


def _gate(request):
    return ConsentGateMiddleware(lambda r: None).process_view(request, lambda r: None, (), {})


def _decided_request(client, existing_user, session):
    client.force_login(existing_user)
    client.post(
        reverse("consent:decide"), {"form_token": form_token(client), "decision": "opt_out"}
    )
    request = RequestFactory().get(PRODUCT_URL)
    request.user = existing_user
    request.session = session
    request.resolver_match = None
    return request


def test_gate_costs_at_most_one_query_for_a_decided_user(
    existing_user, policy, use_variant, client, django_assert_num_queries
):
    use_variant("two_buttons")
    request = _decided_request(client, existing_user, session={})
    current_policy()  # this process's memo of policies is warm

    with django_assert_num_queries(1):
        assert _gate(request) is None


def test_gate_costs_no_query_once_the_session_has_seen_the_decision(
    existing_user, policy, use_variant, client, django_assert_num_queries
):
    use_variant("two_buttons")
    request = _decided_request(client, existing_user, session={})
    _gate(request)

    with django_assert_num_queries(0):
        assert _gate(request) is None


def test_session_marker_does_not_carry_over_to_a_new_policy(
    existing_user, policy, use_variant, client
):
    from .factories import PolicyFactory

    use_variant("two_buttons")
    request = _decided_request(client, existing_user, session={})
    _gate(request)

    PolicyFactory(version="2030-01", effective_at=timezone.now())

    assert (
        gate_status(user=existing_user, session=request.session).requirement is Requirement.NOTICE
    )


def test_session_marker_of_another_user_is_ignored(
    existing_user, new_user, policy, use_variant, client
):
    use_variant("two_buttons")
    request = _decided_request(client, existing_user, session={})
    _gate(request)

    assert (
        gate_status(user=new_user, session=request.session).requirement is Requirement.FIRST_LOGIN
    )


def test_gate_costs_no_query_for_anonymous_requests(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get(PRODUCT_URL)
    request.user = AnonymousUser()
    request.resolver_match = None

    with django_assert_num_queries(0):
        assert _gate(request) is None
