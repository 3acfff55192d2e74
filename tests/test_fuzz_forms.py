"""Fuzzing every state-changing form view: random fields, sizes, encodings and CSRF states.

Each example posts to one view and checks two things: the server never answers 5xx,
and the tracked tables change only when the submission was genuinely valid (the
oracle asks the view's own form class, and for consent forms whether the signed token
is the one just issued). Every example runs in a savepoint that is rolled back, so
each starts from the same world: one policy, one existing user who has not decided
(the deferrable notice), their conversation and another user's.

The normal suite runs a bounded number of examples; ``--hypothesis-profile=long``
runs many more.
"""

import string
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode, urlparse

import pytest
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, assume, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.forms import SignupCompleteForm
from accounts.models import User
from accounts.tokens import email_change_token_make, signup_token_make
from consent.forms import DecisionSubmissionForm, DeferSubmissionForm
from consent.models import Choice, ConsentRecord, ModalVariant, NoticeDeferral, Surface
from consent.services import decision_form_issue
from conversations.forms import MessageForm
from conversations.models import Conversation, Message
from conversations.services import conversation_awaiting_reply
from tests.consent.factories import PolicyFactory
from tests.factories import PASSWORD, ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

TRACKED = {
    "ConsentRecord": ConsentRecord,
    "NoticeDeferral": NoticeDeferral,
    "Conversation": Conversation,
    "Message": Message,
    "User": User,
}


def _examples(default: int) -> int:
    return None if hypothesis_settings.get_current_profile_name() != "default" else default


def bounded(default: int):
    """Bounded examples in the normal suite; the active profile's count otherwise."""
    options = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    }
    examples = _examples(default)
    if examples is not None:
        options["max_examples"] = examples
    return hypothesis_settings(**options)


# --- The world every example starts from -------------------------------------------------


@dataclass
class World:
    user: User
    own: Conversation
    others: Conversation
    policy: object
    tokens: dict[str, str] = field(default_factory=dict)

    def issue_tokens(self) -> None:
        """Fresh one-time consent forms, as the pages would render them."""
        notice_variant = ModalVariant.objects.get(key="accept_toggle_on")
        self.notice_variant = notice_variant
        self.tokens = {
            "notice": decision_form_issue(
                user=self.user,
                policy=self.policy,
                surface=Surface.EXISTING_NOTICE,
                variant=notice_variant,
            ).token(),
            "settings": decision_form_issue(
                user=self.user, policy=self.policy, surface=Surface.SETTINGS, variant=None
            ).token(),
        }


@pytest.fixture
def world(db) -> World:
    policy = PolicyFactory()
    user = UserFactory(email="fuzz@example.com", date_joined=timezone.now() - timedelta(days=400))
    own = ConversationFactory(user=user)
    MessageFactory.create_batch(2, conversation=own)
    others = ConversationFactory(user=UserFactory(email="other@example.com"))
    MessageFactory(conversation=others)
    return World(user=user, own=own, others=others, policy=policy)


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in TRACKED.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


# --- The views: where they are, what a valid submission holds, what it may change ---------


@dataclass(frozen=True)
class Target:
    name: str
    url: Callable[[World], str]
    valid: Callable[[World], dict[str, str]]
    # What a submission with these fields changes, given the CSRF check passed.
    changes: Callable[[World, dict[str, str]], dict[str, int]]
    anonymous: bool = False


def _decision_ok(world: World, data: dict, *, token_key: str, toggle: bool) -> bool:
    form = DecisionSubmissionForm(data)
    if not form.is_valid() or form.cleaned_data["form_token"] != world.tokens[token_key]:
        return False
    decision = form.cleaned_data["decision"]
    return decision == "accept" if toggle else decision in Choice.values


def _decide_changes(world, data):
    return (
        {"ConsentRecord": 1} if _decision_ok(world, data, token_key="notice", toggle=True) else {}
    )


def _privacy_changes(world, data):
    ok = _decision_ok(world, data, token_key="settings", toggle=False)
    return {"ConsentRecord": 1} if ok else {}


def _defer_changes(world, data):
    form = DeferSubmissionForm(data)
    ok = form.is_valid() and form.cleaned_data["form_token"] == world.tokens["notice"]
    return {"NoticeDeferral": 1} if ok else {}


def _new_changes(world, data):
    return {"Conversation": 1, "Message": 2} if MessageForm(data).is_valid() else {}


def _post_changes(world, data):
    return {"Message": 2} if MessageForm(data).is_valid() else {}


def _signup_complete_changes(world, data):
    form = SignupCompleteForm(data, email="linked@example.com")
    return {"User": 1} if form.is_valid() else {}


def _account_delete_changes(world, data):
    if data.get("password") != PASSWORD:
        return {}
    return {"Conversation": -1, "Message": -2}


def _nothing(world, data):
    return {}


def _reply_changes(world, data):
    # The retry reads no field: any accepted POST answers the unanswered newest message.
    return {"Message": 1} if conversation_awaiting_reply(world.own) is not None else {}


def _delete_own_changes(world, data):
    return {"Conversation": -1, "Message": -2}


def _password_change_valid(world: World) -> dict[str, str]:
    return {
        "old_password": PASSWORD,
        "new_password1": "a-new-pass-8812",
        "new_password2": "a-new-pass-8812",
    }


def _password_change_changes(world, data):
    PasswordChangeForm(world.user, data).is_valid()  # validity only; no tracked table changes
    return {}


TARGETS = [
    Target(
        "consent:decide",
        lambda w: reverse("consent:decide"),
        lambda w: {
            "form_token": w.tokens["notice"],
            "decision": "accept",
            "training": "on",
            "toggle_touched": "1",
            "learn_more_opened": "1",
            "next": "/conversations/",
        },
        _decide_changes,
    ),
    Target(
        "consent:defer",
        lambda w: reverse("consent:defer"),
        lambda w: {"form_token": w.tokens["notice"], "next": "/conversations/"},
        _defer_changes,
    ),
    Target(
        "consent:privacy_change",
        lambda w: reverse("consent:privacy_change"),
        lambda w: {"form_token": w.tokens["settings"], "decision": "opt_out"},
        _privacy_changes,
    ),
    Target(
        "conversations:new",
        lambda w: reverse("conversations:new"),
        lambda w: {"text": "How do tides work?"},
        _new_changes,
    ),
    Target(
        "conversations:post",
        lambda w: reverse("conversations:post", args=[w.own.pk]),
        lambda w: {"text": "And in winter?"},
        _post_changes,
    ),
    Target(
        "conversations:post (another user's)",
        lambda w: reverse("conversations:post", args=[w.others.pk]),
        lambda w: {"text": "Let me in"},
        _nothing,
    ),
    Target(
        "conversations:reply",
        lambda w: reverse("conversations:reply", args=[w.own.pk]),
        lambda w: {},
        _reply_changes,
    ),
    Target(
        "conversations:reply (another user's)",
        lambda w: reverse("conversations:reply", args=[w.others.pk]),
        lambda w: {},
        _nothing,
    ),
    Target(
        "conversations:delete",
        lambda w: reverse("conversations:delete", args=[w.own.pk]),
        lambda w: {},
        _delete_own_changes,
    ),
    Target(
        "conversations:delete (another user's)",
        lambda w: reverse("conversations:delete", args=[w.others.pk]),
        lambda w: {},
        _nothing,
    ),
    Target(
        "accounts:signup",
        lambda w: reverse("accounts:signup"),
        # Step one only mails a link (accounts.views.signup); no row changes.
        lambda w: {"email": "brand.new@example.com"},
        _nothing,
        anonymous=True,
    ),
    Target(
        "accounts:signup_complete",
        lambda w: reverse(
            "accounts:signup_complete", args=[signup_token_make(email="linked@example.com")]
        ),
        lambda w: {
            "display_name": "New",
            "country": "",
            "password1": "a-fresh-pass-9931",
            "password2": "a-fresh-pass-9931",
        },
        _signup_complete_changes,
        anonymous=True,
    ),
    Target(
        "accounts:password_reset",
        lambda w: reverse("accounts:password_reset"),
        lambda w: {"email": w.user.email},
        _nothing,  # the reset email goes out from a worker; no row changes
        anonymous=True,
    ),
    Target(
        "accounts:password_reset_confirm",
        lambda w: reverse("accounts:password_reset_confirm", args=["MQ", "set-password"]),
        lambda w: {"new_password1": "a-new-pass-8812", "new_password2": "a-new-pass-8812"},
        _nothing,  # without the emailed link's session token nothing is set
        anonymous=True,
    ),
    Target(
        "accounts:email_change",
        lambda w: reverse("accounts:email_change"),
        lambda w: {"new_email": "moved@example.com", "password": PASSWORD},
        _nothing,  # only the emailed link changes the address
    ),
    Target(
        "accounts:email_change_confirm",
        lambda w: reverse(
            "accounts:email_change_confirm",
            args=[email_change_token_make(user=w.user, new_email="moved@example.com")],
        ),
        lambda w: {},
        _nothing,  # the address changes in place: no row is added or removed
    ),
    Target(
        "accounts:login",
        lambda w: reverse("accounts:login"),
        lambda w: {"username": w.user.email, "password": PASSWORD},
        _nothing,
        anonymous=True,
    ),
    Target("accounts:logout", lambda w: reverse("accounts:logout"), lambda w: {}, _nothing),
    Target(
        "accounts:language",
        lambda w: reverse("accounts:language"),
        lambda w: {"language": "de", "next": "/conversations/"},
        _nothing,  # the person's row is updated in place: no row is added or removed
    ),
    Target(
        "accounts:settings",
        lambda w: reverse("accounts:settings"),
        lambda w: {"language": "fr", "time_zone": "Europe/Paris"},
        _nothing,  # the person's row is updated in place
    ),
    Target(
        "accounts:password_change",
        lambda w: reverse("accounts:password_change"),
        _password_change_valid,
        _password_change_changes,
    ),
    Target(
        "training:data_export", lambda w: reverse("training:data_export"), lambda w: {}, _nothing
    ),
    Target(
        "training:account_delete",
        lambda w: reverse("training:account_delete"),
        lambda w: {"password": PASSWORD},
        _account_delete_changes,
    ),
]

# --- Strategies ---------------------------------------------------------------------------

# Anything a browser can send in a text field (lone surrogates cannot be encoded at all).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "opt_in",
        "opt_out",
        "accept",
        "on",
        "//evil.example/",
        "https://evil.example/phish",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\u202e\ufeff\u200b",
        "a" * 2001,
    ]
)
# Past CharField limits, past CHAT_MESSAGE_MAX_LENGTH, and past DATA_UPLOAD_MAX_MEMORY_SIZE.
HUGE = st.sampled_from(
    [2_001, settings.CHAT_MESSAGE_MAX_LENGTH + 1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1]
).map(lambda n: "x" * n)
EXTRA_NAMES = st.text(string.ascii_letters + string.digits + "_[]-.", min_size=1, max_size=12)
USER_AGENTS = st.one_of(
    st.just("Mozilla/5.0"),
    # WSGI headers arrive as latin-1 text; control characters never get past the server.
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=500,
    ),
)
# Mostly a valid token (as a field or htmx's header), so the views themselves get fuzzed.
CSRF_MODES = st.sampled_from(["field", "header", "field", "header", "missing", "wrong"])


def client_for(world: World, *, anonymous: bool, csrf_secret: str) -> Client:
    """A fresh client each example: a view may log out or rotate the session."""
    client = Client(enforce_csrf_checks=True)
    if not anonymous:
        client.force_login(world.user, backend="consent.backends.ConsentStandingBackend")
    client.cookies[settings.CSRF_COOKIE_NAME] = csrf_secret
    return client


def body_size(body: dict[str, str]) -> int:
    return sum(len(name) + len(value.encode()) for name, value in body.items())


def assert_answered(response) -> None:
    assert response.status_code < 500, response.status_code
    location = response.headers.get("Location", "")
    assert urlparse(location).netloc in ("", "testserver"), f"redirected off-site: {location}"


def _field_values(value: str):
    return st.one_of(st.none(), TEXT, TRICKY, HUGE, TEXT.map(lambda t: value + t))


@st.composite
def fields_strategy(draw, valid: dict[str, str]):
    """The valid fields as they are, with one field broken, or every field random; plus
    random extra fields. A third of the examples are then genuinely valid submissions."""
    mode = draw(st.sampled_from(["valid", "one_broken", "random"]))
    fields = dict(valid)
    if mode == "one_broken" and valid:
        name = draw(st.sampled_from(sorted(valid)))
        fields[name] = draw(_field_values(valid[name]))
    elif mode == "random":
        fields = {name: draw(st.one_of(st.just(v), _field_values(v))) for name, v in valid.items()}
    extras = draw(
        st.dictionaries(
            EXTRA_NAMES.filter(lambda n: n not in valid and n != "csrfmiddlewaretoken"),
            TEXT,
            max_size=3,
        )
    )
    return {**extras, **{k: v for k, v in fields.items() if v is not None}}


# --- Structured form posts ----------------------------------------------------------------


@bounded(150)
@given(data=st.data())
def test_random_form_posts_never_fail_and_change_only_what_a_valid_submission_does(world, data):
    target = data.draw(st.sampled_from(TARGETS), label="target")
    with rolled_back():
        world.issue_tokens()
        fields = data.draw(fields_strategy(target.valid(world)), label="fields")
        csrf_mode = data.draw(CSRF_MODES, label="csrf")
        htmx = data.draw(st.booleans(), label="htmx")
        user_agent = data.draw(USER_AGENTS, label="user_agent")
        secret = get_random_string(32)
        client = client_for(world, anonymous=target.anonymous, csrf_secret=secret)
        body = dict(fields)
        headers = {"User-Agent": user_agent}
        if csrf_mode == "field":
            body["csrfmiddlewaretoken"] = secret
        elif csrf_mode == "header":
            headers["X-CSRFToken"] = secret
        elif csrf_mode == "wrong":
            body["csrfmiddlewaretoken"] = get_random_string(32)
        if htmx:
            headers["HX-Request"] = "true"
        csrf_ok = csrf_mode in ("field", "header")
        # The CSRF check reads request.POST first, so an oversized body never reaches a view.
        too_big = body_size(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        expected = target.changes(world, fields) if csrf_ok and not too_big else {}

        event(f"{target.name}: {'changes' if expected else 'no change'}")
        before = counts()
        response = client.post(target.url(world), body, headers=headers)
        changed = delta(before, counts())

        assert_answered(response)
        assert changed == expected, (target.name, response.status_code)


# --- Raw bodies: random bytes, invalid UTF-8, broken multipart ----------------------------

# Consent field names and random ones; never the fields that would make a chat message,
# an account or a password valid, so no raw body here is a genuinely valid submission.
RAW_NAMES = st.one_of(
    st.sampled_from(["form_token", "decision", "training", "next", "_charset_", "display_name"]),
    EXTRA_NAMES.filter(lambda n: n not in {"text", "email", "password", "password1", "username"}),
)
INVALID_UTF8 = st.sampled_from(
    [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"%FF%FE"]
)
RAW_VALUES = st.one_of(
    st.binary(max_size=200),
    INVALID_UTF8,
    st.tuples(st.binary(max_size=20), INVALID_UTF8).map(b"".join),
)


@st.composite
def multipart_bodies(draw):
    boundary = draw(st.sampled_from(["BoUnDaRy", "x" * 70, "a b", ""]))
    parts = []
    for name, value in draw(st.lists(st.tuples(RAW_NAMES, RAW_VALUES), max_size=5)):
        header = f'Content-Disposition: form-data; name="{name}"'.encode()
        if draw(st.booleans()):
            header += b'; filename="' + draw(st.binary(max_size=12)).replace(b'"', b"") + b'"'
        if draw(st.booleans()):
            header += b"\r\nContent-Type: " + draw(
                st.sampled_from(
                    [
                        b"text/plain; charset=latin-1",
                        b"application/octet-stream",
                        b"text/plain; charset=nope",
                    ]
                )
            )
        parts.append(b"--" + boundary.encode() + b"\r\n" + header + b"\r\n\r\n" + value + b"\r\n")
    ending = draw(st.sampled_from([b"--" + boundary.encode() + b"--\r\n", b"", b"--"]))
    body = b"".join(parts) + ending + draw(st.binary(max_size=50))
    return f"multipart/form-data; boundary={boundary}", body


@st.composite
def urlencoded_bodies(draw):
    pairs = draw(st.lists(st.tuples(RAW_NAMES, RAW_VALUES), max_size=5))
    body = b"&".join(name.encode() + b"=" + value for name, value in pairs)
    body = draw(st.sampled_from([body, draw(st.binary(max_size=300))]))
    charset = draw(
        st.sampled_from(["", "; charset=utf-8", "; charset=latin-1", "; charset=no-such"])
    )
    return "application/x-www-form-urlencoded" + charset, body


RAW_BODIES = st.one_of(
    multipart_bodies(),
    urlencoded_bodies(),
    st.tuples(
        st.sampled_from(["application/json", "text/plain", "application/octet-stream"]),
        st.binary(max_size=300),
    ),
)
# Deleting one's own conversation and logging out need nothing from the body: any body
# with a valid CSRF header is a valid submission there, so they are left out.
# Views that read no field act on any accepted POST, so no raw body is "invalid" for them.
RAW_TARGETS = [
    t
    for t in TARGETS
    if t.name not in ("conversations:delete", "conversations:reply", "accounts:logout")
]


def _body_could_post_a_message(content_type: str, body: bytes) -> bool:
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    return "text" in QueryDict(body, encoding="latin-1")


@bounded(150)
@given(target=st.sampled_from(RAW_TARGETS), raw=RAW_BODIES, csrf_header=st.booleans())
def test_raw_bodies_of_any_encoding_never_fail_and_record_nothing(world, target, raw, csrf_header):
    content_type, body = raw
    assume(not _body_could_post_a_message(content_type, body))
    with rolled_back():
        world.issue_tokens()
        secret = get_random_string(32)
        client = client_for(world, anonymous=target.anonymous, csrf_secret=secret)
        headers = {"X-CSRFToken": secret} if csrf_header else {}
        before = counts()

        response = client.generic(
            "POST", target.url(world), body, content_type=content_type, headers=headers
        )

        assert_answered(response)
        assert counts() == before, target.name


# --- Bodies over the size and field-count limits ------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_a_valid_submission_padded_past_the_upload_limit_is_refused_and_records_nothing(
    world, target
):
    world.issue_tokens()
    secret = get_random_string(32)
    client = client_for(world, anonymous=target.anonymous, csrf_secret=secret)
    body = {**target.valid(world), "padding": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    before = counts()

    response = client.post(target.url(world), body, headers={"X-CSRFToken": secret})

    assert response.status_code == 400
    assert counts() == before


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_a_submission_with_too_many_fields_is_refused_and_records_nothing(world, target):
    world.issue_tokens()
    secret = get_random_string(32)
    client = client_for(world, anonymous=target.anonymous, csrf_secret=secret)
    padding = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    body = urlencode(target.valid(world)) + "&" + padding
    before = counts()

    response = client.generic(
        "POST",
        target.url(world),
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-CSRFToken": secret},
    )

    assert response.status_code == 400
    assert counts() == before


def _named_routes(patterns, prefix="", namespace=""):
    """(route, "namespace:name") for every named URL pattern, walking includes."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_routes(pattern.url_patterns, route, inner)
        elif pattern.name:
            yield route, namespace + pattern.name


def test_every_state_changing_view_in_the_url_conf_is_fuzzed():
    """A new form view must be added to TARGETS, or to the lists below with why not."""
    not_form_routes = (
        "admin/",  # Django's and the apps' admin: staff-only, tested by their owners
        "api/",  # JSON, fuzzed from its OpenAPI schema in tests/api
        "experiments/",  # read-only dashboards
    )
    read_only = {
        "home",
        "accounts:password_change_done",
        "accounts:password_reset_done",
        "accounts:password_reset_complete",
        "consent:receipt",
        "consent:receipt_json",
        "consent:receipt_shown",
        "consent:policy_current",
        "consent:policy",
        "consent:privacy_settings",
        "conversations:list",
        "conversations:detail",
        # GET-only (require_GET): public receipt-checking material, nothing to submit.
        "evidence:verify_help",
        "evidence:verifier_download",
        "evidence:public_key",
        "evidence:latest_head",
        "evidence:signed_head",
    }
    fuzzed = {t.name.split(" ")[0] for t in TARGETS}

    names = {
        name
        for route, name in _named_routes(get_resolver().url_patterns)
        if not route.startswith(not_form_routes)
    }

    assert names - fuzzed - read_only == set()
