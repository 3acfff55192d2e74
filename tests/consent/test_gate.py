"""The consent gate (DESIGN §4 rule 5) and the notice's deferral rules."""

import json
import secrets
from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from consent.backends import ConsentStandingBackend
from consent.errors import ConsentError
from consent.middleware import ConsentGateMiddleware
from consent.models import ConsentRecord, NoticeDeferral
from consent.selectors import Requirement, current_policy, gate_status
from consent.services import consent_record_create, notice_defer

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
        "/settings/privacy/choice/",
    ],
)
def test_locked_out_user_reaches_no_product_page(client, existing_user, policy, url):
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        response = client.get(url)

    assert response.status_code == 303
    assert response["Location"].startswith(reverse("consent:decide"))


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


def test_gate_costs_one_query_for_a_user_loaded_without_their_standing(
    existing_user, policy, use_variant, client, django_assert_num_queries
):
    use_variant("two_buttons")
    request = _decided_request(client, existing_user, session={})
    current_policy()  # this process's memo of policies is warm

    with django_assert_num_queries(1):
        assert _gate(request) is None


def _signed_in_request(user, path=PRODUCT_URL):
    """A request whose user came from the session backend, as AuthenticationMiddleware does."""
    request = RequestFactory().get(path)
    request.user = ConsentStandingBackend().get_user(user.pk)
    request.session = {}
    request.resolver_match = None
    return request


def test_signed_in_user_arrives_with_their_standing_in_one_query(
    new_user, policy, django_assert_num_queries
):
    current_policy()

    with django_assert_num_queries(1):
        request = _signed_in_request(new_user)
    with django_assert_num_queries(0):
        response = _gate(request)

    assert response.status_code == 303  # undecided, and the gate knew it without asking


def test_loaded_standing_sees_a_decision_and_a_deferral(
    client, existing_user, new_user, policy, use_variant, django_assert_num_queries
):
    use_variant("two_buttons")
    _decided_request(client, new_user, session={})
    client.force_login(existing_user)
    client.post(reverse("consent:defer"), {"form_token": form_token(client)})
    current_policy()

    decided, deferred = _signed_in_request(new_user), _signed_in_request(existing_user)
    with django_assert_num_queries(0):
        assert gate_status(user=decided.user).choice == "opt_out"
        status = gate_status(user=deferred.user)  # no session: only the stored "Not now"

    assert status.requirement is Requirement.NONE


def test_loaded_standing_serves_only_the_first_gate_check_of_a_request(
    client, new_user, policy, use_variant, django_assert_num_queries
):
    use_variant("two_buttons")
    request = _signed_in_request(new_user)
    assert gate_status(user=request.user).requirement is Requirement.FIRST_LOGIN
    _decided_request(client, new_user, session={})  # decided later in the same request

    with django_assert_num_queries(1):
        assert gate_status(user=request.user).choice == "opt_out"


def test_loaded_standing_under_an_older_policy_is_not_used(
    client, existing_user, policy, use_variant
):
    from .factories import PolicyFactory

    use_variant("two_buttons")
    _decided_request(client, existing_user, session={})
    request = _signed_in_request(existing_user)  # loaded as decided under the old policy
    PolicyFactory(version="2030-01", effective_at=timezone.now())

    status = gate_status(user=request.user)

    assert status.policy.version == "2030-01"
    assert status.requirement is Requirement.NOTICE


def test_backend_refuses_inactive_and_unknown_users(existing_user, policy):
    existing_user.is_active = False
    existing_user.save(update_fields=["is_active"])

    assert ConsentStandingBackend().get_user(existing_user.pk) is None
    assert ConsentStandingBackend().get_user(existing_user.pk + 1000) is None


def test_backend_loads_a_plain_user_while_no_policy_is_in_effect(existing_user):
    user = ConsentStandingBackend().get_user(existing_user.pk)

    assert user == existing_user
    assert gate_status(user=user).requirement is Requirement.NONE


def test_a_decision_made_in_another_session_unlocks_the_next_request(
    client, new_user, policy, use_variant
):
    from django.test import Client

    use_variant("two_buttons")
    client.force_login(new_user)
    assert client.get(PRODUCT_URL).status_code == 303

    other_device = Client()
    other_device.force_login(new_user)
    other_device.post(
        reverse("consent:decide"),
        {"form_token": form_token(other_device), "decision": "opt_in"},
    )

    assert client.get(PRODUCT_URL).status_code == 200


def test_gate_costs_no_query_for_anonymous_requests(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get(PRODUCT_URL)
    request.user = AnonymousUser()
    request.resolver_match = None

    with django_assert_num_queries(0):
        assert _gate(request) is None


# --- Boundaries (each fails if its comparison is flipped in consent.selectors.gate_status) ---

MICROSECOND = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("offset", "locked"), [(-MICROSECOND, False), (timedelta(0), True), (MICROSECOND, True)]
)
def test_the_deadline_instant_itself_already_locks_the_product(
    client, existing_user, policy, offset, locked
):
    # "Decide by <deadline>": the notice period is [effective_at, deadline), so at the
    # deadline instant the time to decide is over, as a "Not now" also ends then.
    with time_machine.travel(policy.decision_deadline + offset, tick=False):
        client.force_login(existing_user)
        response = client.get(PRODUCT_URL)

    assert response.status_code == (303 if locked else 200)
    if not locked:
        assert b"Not now" in response.content  # still the deferrable notice


@pytest.mark.parametrize(
    ("offset", "is_new"), [(-MICROSECOND, False), (timedelta(0), True), (MICROSECOND, True)]
)
def test_a_user_who_joined_at_the_effective_instant_is_a_new_user(
    client, django_user_model, policy, offset, is_new
):
    # The policy is in effect from effective_at inclusive (current_policy: effective_at <= now),
    # so someone joining at that instant never used the product under the earlier terms.
    user = django_user_model.objects.create_user(
        "boundary@example.com", "correct-horse-battery", date_joined=policy.effective_at + offset
    )
    client.force_login(user)

    response = client.get(PRODUCT_URL)

    assert gate_status(user=user).requirement is (
        Requirement.FIRST_LOGIN if is_new else Requirement.NOTICE
    )
    assert response.status_code == (303 if is_new else 200)


@pytest.mark.parametrize(
    ("offset", "notice_back"), [(-MICROSECOND, False), (timedelta(0), True), (MICROSECOND, True)]
)
def test_a_not_now_ends_exactly_when_its_hidden_until_arrives(
    client, existing_user, policy, offset, notice_back
):
    with time_machine.travel(policy.effective_at + timedelta(days=1), tick=False):
        client.force_login(existing_user)
        client.post(reverse("consent:defer"), {"form_token": form_token(client, PRODUCT_URL)})
        client.logout()  # the "this login" half of the rule is gone; only hidden_until is left
    hidden_until = NoticeDeferral.objects.get().hidden_until

    with time_machine.travel(hidden_until + offset, tick=False):
        client.force_login(existing_user)
        response = client.get(PRODUCT_URL)

    assert response.status_code == 200
    assert (b"Not now" in response.content) is notice_back


# --- "Not now" at its boundaries, through the service (frozen clock) ----------------------


def test_not_now_at_the_deadline_instant_is_refused(existing_user, policy):
    with (
        time_machine.travel(policy.decision_deadline, tick=False),
        pytest.raises(ConsentError) as refused,
    ):
        notice_defer(user=existing_user, policy=policy, form_key=secrets.token_hex(16))

    assert refused.value.code == "deadline_passed"
    assert not NoticeDeferral.objects.exists()


def test_a_user_who_joined_at_the_effective_instant_cannot_defer(django_user_model, policy):
    joined_then = django_user_model.objects.create_user(
        "joined-then@example.com", "correct-horse-battery", date_joined=policy.effective_at
    )

    with pytest.raises(ConsentError) as refused:
        notice_defer(user=joined_then, policy=policy, form_key=secrets.token_hex(16))

    assert refused.value.code == "not_deferrable"
    assert not NoticeDeferral.objects.exists()


def test_a_form_already_answered_cannot_also_be_deferred(existing_user, policy):
    form_key = secrets.token_hex(16)
    consent_record_create(
        user=existing_user,
        policy=policy,
        choice="opt_out",
        surface="existing_notice",
        form_key=form_key,
        shown_at=timezone.now(),
    )

    with pytest.raises(ConsentError) as refused:
        notice_defer(user=existing_user, policy=policy, form_key=form_key)

    assert refused.value.code == "form_already_used"
    assert not NoticeDeferral.objects.exists()
