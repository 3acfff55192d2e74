"""The gate's allow-list (DESIGN §4 rule 5), walked over every URL the project has.

For an undecided user the gate stops (after the deadline, or new since the policy), every
URL pattern is requested: the allow-listed ones reach their view, every other one gets the
gate's answer (303 to the decision screen; HX-Redirect for htmx; 403 JSON for API/JSON).
"""

import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from consent import errors
from consent.gate import GATE_ALLOW_LIST
from consent.models import ConsentRecord
from tests.factories import PASSWORD, ConversationFactory, UserFactory

from .conftest import form_token
from .factories import PolicyFactory

pytestmark = pytest.mark.django_db

# The invariant's own enumeration, written out independently of consent/gate.py so that
# widening (or narrowing) the gate's list fails here until this spec changes too.
EXPECTED_ALLOW_LIST = {
    "consent:decide",
    "consent:defer",
    "accounts:logout",
    "accounts:login",
    "consent:policy_current",
    "consent:policy",
    "consent:privacy_settings",
    "consent:receipt",
    "consent:receipt_json",
    "consent:receipt_shown",
    "evidence:verify_help",
    "evidence:verifier_download",
    "evidence:public_key",
    "evidence:latest_head",
    "evidence:signed_head",
    "training:data_export",
    "training:account_delete",
    "accounts:language",
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "admin:*",
    "experiments:list",
    "experiments:dashboard",
    "experiments:results_csv",
    # The design an arm showed, read beside its results: the same analysts' tool and
    # permission (experiments.view_results) as the three results pages above.
    "experiments:design_preview",
    "bench_minimal",
    "bench_insert",
}
ALLOWED_NAMESPACES = {"admin"}


def _walk(patterns, prefix="", namespaces=()):
    """(route, view name, namespaces) for every URL pattern, included ones too."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or pattern.lookup_str
            route = prefix + str(pattern.pattern)
            yield route, ":".join((*namespaces, name)), namespaces


_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")
_CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
_SAMPLES = {"int": "1", "uuid": "00000000-0000-0000-0000-000000000000"}


def _regex_sample(match: re.Match) -> str:
    body = match.group("body")
    if re.fullmatch(r"[\w|-]+", body):  # a choice of literals, e.g. admin's app labels
        return body.split("|")[0]
    return "1"


def _sample_path(route: str) -> str:
    """A concrete path for a route: converters and named groups filled with sample values."""
    path = _GROUP.sub(_regex_sample, route)
    path = _CONVERTER.sub(lambda m: _SAMPLES.get(m.group("kind") or "", "1"), path)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + path


ROUTES = sorted({(_sample_path(r), name, ns) for r, name, ns in _walk(get_resolver().url_patterns)})


def _is_allowed(name: str, namespaces) -> bool:
    return name in EXPECTED_ALLOW_LIST or bool(namespaces and namespaces[0] in ALLOWED_NAMESPACES)


ALLOWED = [(path, name) for path, name, ns in ROUTES if _is_allowed(name, ns)]
GATED = [(path, name) for path, name, ns in ROUTES if not _is_allowed(name, ns)]


@pytest.fixture(params=["past_deadline", "new_user"])
def stopped_client(request, db):
    """A signed-in client the gate stops: undecided after the deadline, or new and undecided."""
    policy = PolicyFactory()
    client = Client()
    if request.param == "past_deadline":
        user = UserFactory(date_joined=policy.effective_at - timedelta(days=400))
        moment = policy.decision_deadline + timedelta(days=1)
        reason = "deadline"
    else:
        user = UserFactory()
        moment = timezone.now()
        reason = "first_login"
    with time_machine.travel(moment, tick=False):
        client.force_login(user)
        client.reason = reason
        client.policy = policy
        yield client


def _is_gate_answer(response) -> bool:
    decide = reverse("consent:decide")
    if response.status_code == 303 and response["Location"].startswith(decide):
        return True
    if response.get("HX-Redirect", "").startswith(decide):
        return True
    return response.status_code == 403 and b"consent_required" in response.content


def _assert_gate_json(response, client) -> None:
    assert response.status_code == 403
    assert json.loads(response.content) == {
        "error": "consent_required",
        "reason": client.reason,
        "policy": client.policy.version,
        "detail": errors.CONSENT_REQUIRED,
        "decide_url": reverse("consent:decide"),
    }


def test_every_sample_path_resolves_to_the_pattern_it_stands_for():
    for route, _, _ in _walk(get_resolver().url_patterns):
        # ResolverMatch.route drops the "^" of an included regex; nothing else differs.
        assert resolve(_sample_path(route)).route == route.replace("^", ""), route


def test_the_gate_list_is_exactly_the_invariants_enumeration():
    assert set(GATE_ALLOW_LIST) == EXPECTED_ALLOW_LIST


def test_every_allow_list_entry_says_why():
    assert all(len(reason) > 20 for reason in GATE_ALLOW_LIST.values())


def test_every_allow_listed_name_exists_so_a_rename_cannot_silently_gate_a_right():
    # bench.urls mounts the product's URLs plus the two load-test baselines.
    names = {name for _, name, _ in _walk(get_resolver("bench.urls").url_patterns)}
    namespaces = {ns[0] for _, _, ns in _walk(get_resolver("bench.urls").url_patterns) if ns}
    for entry in GATE_ALLOW_LIST:
        if entry.endswith(":*"):
            assert entry.removesuffix(":*") in namespaces, entry
        else:
            assert entry in names, entry


def test_the_walk_covers_the_product_admin_and_api():
    names = {name for _, name in ALLOWED + GATED}
    assert {"conversations:list", "consent:privacy_change", "admin:index", "api_not_found"} <= names
    assert any(name.startswith("api:") for name in names)


@pytest.mark.parametrize(("path", "name"), ALLOWED, ids=[name for _, name in ALLOWED])
def test_allow_listed_url_reaches_its_view(stopped_client, path, name):
    response = stopped_client.get(path)

    assert not _is_gate_answer(response), (path, response.status_code)


@pytest.mark.parametrize(("path", "name"), GATED, ids=[name for _, name in GATED])
def test_every_other_url_leads_to_the_decision_screen(stopped_client, path, name):
    decide = reverse("consent:decide")

    plain = stopped_client.get(path)
    htmx = stopped_client.get(path, headers={"HX-Request": "true"})
    wants_json = stopped_client.get(path, headers={"Accept": "application/json"})
    post = stopped_client.post(path, {"text": "hello"})

    _assert_gate_json(wants_json, stopped_client)
    if path.startswith("/api/"):
        for response in (plain, htmx, post):
            _assert_gate_json(response, stopped_client)
        return
    assert plain.status_code == 303
    assert plain["Location"] == f"{decide}?{urlencode({'next': path})}"
    assert htmx["HX-Redirect"] == decide
    assert post.status_code == 303
    assert post["Location"] == decide


# --- Rights reachable in practice, not only past the gate --------------------------------


@pytest.fixture
def gated_with_history(db, use_variant):
    """Decided under last year's policy; a material new version's deadline has passed."""
    use_variant("two_buttons")
    now = timezone.now()
    PolicyFactory(version="2025-01", effective_at=now - timedelta(days=400))
    user = UserFactory(date_joined=now - timedelta(days=500))
    client = Client()
    with time_machine.travel(now - timedelta(days=100), tick=False):
        client.force_login(user)
        token = form_token(client)
        client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})
    new = PolicyFactory(version="2026-09", effective_at=now - timedelta(days=40))
    with time_machine.travel(now, tick=False):
        client.force_login(user)
        assert client.get("/conversations/").status_code == 303  # gated: deadline 10 days ago
        yield client, user, new


def test_gated_user_reads_their_receipts_and_downloads_their_data(gated_with_history):
    client, user, _ = gated_with_history
    record = ConsentRecord.objects.get(user=user)

    receipt = client.get(reverse("consent:receipt", args=[record.pk]))
    receipt_json = client.get(reverse("consent:receipt_json", args=[record.pk]))
    download = client.post(reverse("training:data_export"))

    assert receipt.status_code == 200
    assert json.loads(receipt_json.content)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="my-data-')


def test_gated_user_changes_their_password(gated_with_history):
    client, user, _ = gated_with_history

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Pass-phrase-9",
            "new_password2": "a-new-Pass-phrase-9",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-Pass-phrase-9")


def test_gated_user_deletes_their_account(gated_with_history):
    client, user, _ = gated_with_history

    response = client.post(reverse("training:account_delete"), {"password": PASSWORD})

    assert response.status_code in (302, 303)
    user.refresh_from_db()
    assert user.pseudonymised_at is not None


# --- Privacy settings: open, but read-only until they decide ------------------------------


def _change_form(content: bytes) -> bool:
    return reverse("consent:privacy_change").encode() in content


def test_gated_user_sees_settings_read_only_with_a_way_to_decide(gated_with_history):
    client, user, _ = gated_with_history
    record = ConsentRecord.objects.get(user=user)

    response = client.get(reverse("consent:privacy_settings"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Not decided yet" in content
    assert "The deadline to decide was" in content
    assert not _change_form(response.content)
    assert f'href="{reverse("consent:decide")}?next=%2Fsettings%2Fprivacy%2F"' in content
    assert reverse("consent:receipt", args=[record.pk]) in content
    for right in ("training:data_export", "training:account_delete", "accounts:password_change"):
        assert reverse(right) in content


def test_new_user_sees_settings_read_only_without_a_deadline(client, new_user):
    client.force_login(new_user)

    response = client.get(reverse("consent:privacy_settings"))

    assert response.status_code == 200
    assert b"Before you start chatting, answer once" in response.content
    assert not _change_form(response.content)
    assert b"data-deadline" not in response.content


def test_user_still_within_the_notice_period_changes_it_in_settings(client, existing_user, policy):
    client.force_login(existing_user)

    response = client.get(reverse("consent:privacy_settings"))

    assert _change_form(response.content)
    assert b"Decide by" in response.content
    assert b"data-settings-read-only" not in response.content


def test_settings_form_is_no_back_door_past_the_gate(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(hours=1), tick=False):
        client.force_login(existing_user)
        page = client.get(reverse("consent:privacy_settings")).content.decode()
        token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    with time_machine.travel(policy.decision_deadline + timedelta(hours=1), tick=False):
        response = client.post(
            reverse("consent:privacy_change"), {"form_token": token, "decision": "opt_in"}
        )

    assert response.status_code == 303
    assert response["Location"] == reverse("consent:decide")
    assert not ConsentRecord.objects.exists()


def test_privacy_settings_link_in_a_blocking_dialog_opens_the_read_only_page(client, new_user):
    client.force_login(new_user)
    dialog = client.get(reverse("consent:decide")).content.decode()
    assert 'aria-modal="true"' in dialog
    link = re.search(r'<a href="([^"]+)">Privacy settings</a>', dialog.split("<dialog", 1)[1])

    response = client.get(link.group(1))

    assert response.status_code == 200
    assert b"data-settings-read-only" in response.content
    assert b'aria-modal="true"' not in response.content  # the page, not the same dialog again


# --- Staff: admin is outside the gate; staff who chat meet it like anyone ----------------


def _log_in(client, user, **query):
    url = reverse("accounts:login") + (f"?{urlencode(query)}" if query else "")
    return client.post(url, {"username": user.email, "password": PASSWORD})


def test_staff_who_never_chat_land_in_admin_after_login(client, policy):
    staff = UserFactory(is_staff=True)

    response = _log_in(client, staff)

    assert response["Location"] == reverse("admin:index")
    assert client.get(response["Location"]).status_code == 200  # no decision asked first


def test_staff_login_still_honours_next(client, policy):
    staff = UserFactory(is_staff=True)

    response = _log_in(client, staff, next="/settings/privacy/")

    assert response["Location"] == "/settings/privacy/"


@pytest.mark.parametrize("history", ["conversation", "consent_record"])
def test_staff_who_chat_land_in_the_chat_and_meet_the_gate(client, policy, use_variant, history):
    use_variant("two_buttons")
    staff = UserFactory(is_staff=True, date_joined=policy.effective_at - timedelta(days=1))
    if history == "conversation":
        ConversationFactory(user=staff)
    else:
        client.force_login(staff)
        client.post(
            reverse("consent:decide"), {"form_token": form_token(client), "decision": "opt_out"}
        )
        client.logout()
        PolicyFactory(version="2026-50", effective_at=timezone.now())  # undecided again

    with time_machine.travel(timezone.now() + timedelta(days=60), tick=False):
        response = _log_in(client, staff)
        product = client.get(response["Location"])

    assert response["Location"] == reverse("conversations:list")
    assert product.status_code == 303
    assert product["Location"].startswith(reverse("consent:decide"))


def test_people_who_are_not_staff_land_in_the_chat(client, existing_user, policy):
    response = _log_in(client, existing_user)

    assert response["Location"] == reverse("conversations:list")


def test_navigation_shows_admin_to_staff_only(client, existing_user, policy):
    staff = UserFactory(is_staff=True)
    admin_link = f'<a href="{reverse("admin:index")}">Admin</a>'.encode()

    client.force_login(existing_user)
    assert admin_link not in client.get(reverse("consent:privacy_settings")).content
    client.force_login(staff)
    assert admin_link in client.get(reverse("consent:privacy_settings")).content


def test_a_settings_form_posted_to_the_decision_screen_while_gated_records_nothing(
    client, existing_user, policy
):
    with time_machine.travel(policy.decision_deadline - timedelta(hours=1), tick=False):
        client.force_login(existing_user)
        page = client.get(reverse("consent:privacy_settings")).content.decode()
        token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    with time_machine.travel(policy.decision_deadline + timedelta(hours=1), tick=False):
        response = client.post(
            reverse("consent:decide"), {"form_token": token, "decision": "opt_in"}
        )

    assert response.status_code == 409
    assert str(errors.DECIDE_ON_DECISION_SCREEN) in response.content.decode().replace("&quot;", '"')
    assert not ConsentRecord.objects.exists()


def test_a_settings_form_still_records_for_a_user_the_gate_does_not_block(
    client, existing_user, policy
):
    client.force_login(existing_user)
    page = client.get(reverse("consent:privacy_settings")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    client.post(reverse("consent:privacy_change"), {"form_token": token, "decision": "opt_out"})

    assert ConsentRecord.objects.get().surface == "settings"


def test_signed_in_staff_who_never_chat_are_sent_on_to_admin_from_the_login_page(client, policy):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("accounts:login"))

    assert response["Location"] == reverse("admin:index")


def test_the_deferrable_notice_still_shows_over_settings_in_the_notice_period(
    client, existing_user, policy
):
    client.force_login(existing_user)

    response = client.get(reverse("consent:privacy_settings"))

    assert b'aria-modal="true"' in response.content
    assert b"Not now" in response.content
