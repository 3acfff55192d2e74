"""Who may reach what: every named URL, and every admin model, against every kind of actor.

The tables below are the contract. The URL list is discovered from the URL conf
(``get_resolver()`` walked recursively), so a new view without a row here FAILS
``test_every_url_has_a_rule``: decide who may see it, then add the row.

Actors (every signed-in actor has decided, except ``locked_out``):

- ``anonymous``: no session.
- ``owner``: a regular user; the sample objects (conversation, consent record) are theirs.
- ``other``: another regular user asking for the owner's objects: 404, never 403, so ids
  cannot be probed (``conversations.selectors.conversation_get_for``).
- ``locked_out``: an existing user who did not decide by the deadline (DESIGN §4 rule 5).
- ``privacy_officer``, ``analyst``, ``support``: staff in the roles of ``accounts.roles``;
  on the product pages they are just other users.
- ``service``: a downstream service with an API token and no session.

Statuses: 200 page; 302 to the login page (or, for admin, the admin login; for a signed-in
user on log-in/sign-up, onwards to the product); 303 to the decision screen (the consent
gate; JSON requests get 403 from it instead); 400 the empty form a POST row sends was
refused; 401 no (valid) API token; 403 refused; 404 absent, or not yours.
Each actor's request runs in a rolled-back savepoint, so a POST never affects the next actor.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.roles import PRIVACY_OFFICER, PRODUCT_ANALYST, SUPPORT
from api.services import service_token_issue
from consent.models import Choice
from conversations.services import conversation_start
from experiments.models import Experiment
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory, settings_decision

pytestmark = pytest.mark.django_db

ACTORS = (
    "anonymous",
    "owner",
    "other",
    "locked_out",
    "privacy_officer",
    "analyst",
    "support",
    "service",
)

# fmt: off
# Every named URL outside admin. One status per actor, in the order of ACTORS:
#                                                        anon owner other locked  PO  analyst support service
URL_MATRIX: dict[str, tuple[str, tuple[int, ...]]] = {
    "home":                                     ("GET",  (302, 302, 302, 303, 302, 302, 302, 302)),
    "accounts:signup":                          ("GET",  (200, 302, 302, 303, 302, 302, 302, 200)),
    "accounts:login":                           ("GET",  (200, 302, 302, 302, 302, 302, 302, 200)),
    "accounts:logout":                          ("POST", (302, 302, 302, 302, 302, 302, 302, 302)),
    "accounts:password_change":                 ("GET",  (302, 200, 200, 200, 200, 200, 200, 302)),
    "accounts:password_change_done":            ("GET",  (302, 200, 200, 200, 200, 200, 200, 302)),
    "accounts:signup_complete":                 ("GET",  (400, 302, 302, 303, 302, 302, 302, 400)),
    "accounts:password_reset":                  ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset_done":             ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset_confirm":          ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:password_reset_complete":         ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "accounts:email_change":                    ("GET",  (302, 200, 200, 303, 200, 200, 200, 302)),
    "accounts:email_change_confirm":            ("GET",  (302, 400, 400, 303, 400, 400, 400, 302)),
    # The switcher's POST without a language changes nothing and returns to the page.
    "accounts:language":                        ("POST", (302, 302, 302, 302, 302, 302, 302, 302)),
    "accounts:settings":                        ("GET",  (302, 200, 200, 303, 200, 200, 200, 302)),
    "conversations:list":                       ("GET",  (302, 200, 200, 303, 200, 200, 200, 302)),
    "conversations:new":                        ("GET",  (302, 200, 200, 303, 200, 200, 200, 302)),
    "conversations:detail":                     ("GET",  (302, 200, 404, 303, 404, 404, 404, 302)),
    "conversations:post":                       ("POST", (302, 200, 404, 303, 404, 404, 404, 302)),
    "conversations:reply":                      ("POST", (302, 303, 404, 303, 404, 404, 404, 302)),
    "conversations:delete":                     ("GET",  (302, 200, 404, 303, 404, 404, 404, 302)),
    "consent:decide":                           ("GET",  (302, 302, 302, 200, 302, 302, 302, 302)),
    "consent:defer":                            ("POST", (302, 400, 400, 400, 400, 400, 400, 302)),
    "consent:receipt":                          ("GET",  (302, 200, 404, 404, 404, 404, 404, 302)),
    "consent:receipt_json":                     ("GET",  (302, 200, 404, 404, 404, 404, 404, 302)),
    # The owner's record here was made without a rendering (no kept screen): 404 for all;
    # the owner's 200 and another person's 404 are in tests/consent/test_served_notices.py.
    "consent:receipt_shown":                    ("GET",  (302, 404, 404, 404, 404, 404, 404, 302)),
    "consent:policy_current":                   ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "consent:policy":                           ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "consent:privacy_settings":                 ("GET",  (302, 200, 200, 200, 200, 200, 200, 302)),
    "consent:privacy_change":                   ("POST", (302, 400, 400, 303, 400, 400, 400, 302)),
    "training:data_export":                     ("GET",  (302, 200, 200, 200, 200, 200, 200, 302)),
    # Public: anyone may check a receipt, an auditor without an account too. No head is
    # signed in this world, so both head URLs answer 404 (tests/evidence/test_published.py).
    "evidence:verify_help":                     ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "evidence:verifier_download":               ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "evidence:public_key":                      ("GET",  (200, 200, 200, 200, 200, 200, 200, 200)),
    "evidence:latest_head":                     ("GET",  (404, 404, 404, 404, 404, 404, 404, 404)),
    "evidence:signed_head":                     ("GET",  (404, 404, 404, 404, 404, 404, 404, 404)),
    "training:account_delete":                  ("GET",  (302, 200, 200, 200, 200, 200, 200, 302)),
    "experiments:list":                         ("GET",  (302, 403, 403, 403, 403, 200, 403, 302)),
    "experiments:dashboard":                    ("GET",  (302, 403, 403, 403, 403, 200, 403, 302)),
    "experiments:results_csv":                  ("GET",  (302, 403, 403, 403, 403, 200, 403, 302)),
    # Behind the same permission as the results pages; no arm with this id here: 404 for the analyst.
    "experiments:design_preview":               ("GET",  (302, 403, 403, 403, 403, 404, 403, 302)),
    "api:openapi-json":                         ("GET",  (200, 200, 200, 403, 200, 200, 200, 200)),
    "api:openapi-view":                         ("GET",  (200, 200, 200, 403, 200, 200, 200, 200)),
    "api:api-root":                             ("GET",  (404, 404, 404, 403, 404, 404, 404, 404)),
    "api:user_consent":                         ("GET",  (401, 401, 401, 403, 401, 401, 401, 200)),
    "api:conversation_training_eligibility":    ("GET",  (401, 401, 401, 403, 401, 401, 401, 200)),
    "api:receipt":                              ("GET",  (401, 401, 401, 403, 401, 401, 401, 200)),
    "api:policy_current":                       ("GET",  (401, 401, 401, 403, 401, 401, 401, 200)),
    # No snapshot with this id in this world: the service's token gets through to the 404.
    "api:snapshot_withdrawals":                 ("GET",  (401, 401, 401, 403, 401, 401, 401, 404)),
    "api_not_found":                            ("GET",  (404, 404, 404, 403, 404, 404, 404, 404)),
}

# Every model registered in admin: the status of its list page, per staff kind. Regular users
# (owner) and anonymous visitors are sent to the admin login; roles see exactly their models.
ADMIN_ACTORS = ("anonymous", "owner", "privacy_officer", "analyst", "support", "superuser")
#                                                        anon owner  PO  analyst support superuser
ADMIN_MATRIX: dict[str, tuple[int, ...]] = {
    "accounts.user":                                    (302, 302, 200, 403, 200, 200),
    "auth.group":                                       (302, 302, 403, 403, 403, 200),
    "axes.accessattempt":                               (302, 302, 403, 403, 403, 200),
    "axes.accessfailurelog":                            (302, 302, 403, 403, 403, 200),
    "axes.accesslog":                                   (302, 302, 403, 403, 403, 200),
    "django_celery_beat.clockedschedule":               (302, 302, 403, 403, 403, 200),
    "django_celery_beat.crontabschedule":               (302, 302, 403, 403, 403, 200),
    "django_celery_beat.intervalschedule":              (302, 302, 403, 403, 403, 200),
    "django_celery_beat.periodictask":                  (302, 302, 403, 403, 403, 200),
    "django_celery_beat.solarschedule":                 (302, 302, 403, 403, 403, 200),
    "consent.policy":                                   (302, 302, 200, 403, 200, 200),
    "consent.modalvariant":                             (302, 302, 200, 200, 403, 200),
    "consent.designdefault":                            (302, 302, 200, 403, 403, 200),
    "consent.consentrecord":                            (302, 302, 200, 403, 200, 200),
    "consent.userconsentstate":                         (302, 302, 200, 403, 200, 200),
    "consent.noticedeferral":                           (302, 302, 200, 403, 200, 200),
    "consent.deadlinereminder":                         (302, 302, 200, 403, 200, 200),
    "consent.lockout":                                  (302, 302, 200, 403, 200, 200),
    "conversations.conversation":                       (302, 302, 200, 403, 403, 200),
    "retention.hold":                                   (302, 302, 200, 403, 403, 200),
    "retention.retentionrun":                           (302, 302, 200, 403, 403, 200),
    "retention.purgelock":                              (302, 302, 403, 403, 403, 200),
    "training.trainingsnapshot":                        (302, 302, 200, 403, 403, 200),
    "training.traininguse":                             (302, 302, 200, 403, 403, 200),
    "training.snapshotexport":                          (302, 302, 200, 403, 403, 200),
    "experiments.experiment":                           (302, 302, 403, 200, 403, 200),
    "experiments.experimentphase":                      (302, 302, 403, 200, 403, 200),
    "experiments.assignment":                           (302, 302, 403, 200, 403, 200),
    "experiments.exposure":                             (302, 302, 403, 200, 403, 200),
    "experiments.shipdecision":                         (302, 302, 403, 200, 403, 200),
    "api.servicetoken":                                 (302, 302, 403, 403, 403, 200),
    "evidence.logentry":                                (302, 302, 200, 403, 403, 200),
    "evidence.signedtreehead":                          (302, 302, 200, 403, 403, 200),
    "evidence.verificationrun":                         (302, 302, 200, 403, 403, 200),
    "webhooks.subscriber":                              (302, 302, 200, 403, 403, 200),
    "webhooks.event":                                   (302, 302, 200, 403, 403, 200),
    "webhooks.delivery":                                (302, 302, 200, 403, 403, 200),
}
# fmt: on


# --- Discovery -----------------------------------------------------------------------------


def discovered_urls(resolver=None, namespace: tuple[str, ...] = ()):
    """(qualified name, pattern) of every URL pattern, admin's own excepted (it has its table)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespace, pattern.namespace) if pattern.namespace else namespace
            if "admin" in inner:
                continue
            yield from discovered_urls(pattern, inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join((*namespace, pattern.name)) if pattern.name else None
            yield name, str(pattern.pattern)


def test_every_url_has_a_rule():
    discovered = list(discovered_urls())
    unnamed = [pattern for name, pattern in discovered if name is None]
    names = {name for name, _ in discovered if name is not None}

    assert unnamed == [], "name these URL patterns, then give them a row in URL_MATRIX"
    assert sorted(names - URL_MATRIX.keys()) == [], "new views: add their rows to URL_MATRIX"
    assert sorted(URL_MATRIX.keys() - names) == [], "rows for URLs that no longer exist"


def test_every_admin_model_has_a_rule():
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert sorted(registered - ADMIN_MATRIX.keys()) == [], "add these models to ADMIN_MATRIX"
    assert sorted(ADMIN_MATRIX.keys() - registered) == [], "rows for models no longer in admin"


# --- The world the requests are made in ------------------------------------------------------


def decide(user, policy, choice: str):
    return settings_decision(user, policy, choice)


@pytest.fixture
def world(db):
    """A policy past its deadline; every actor but ``locked_out`` decided under it."""
    now = timezone.now()
    policy = PolicyFactory(
        effective_at=now - timedelta(days=40), decision_deadline=now - timedelta(days=10)
    )
    long_ago = now - timedelta(days=400)
    people = {
        "owner": UserFactory(email="owner@example.com", date_joined=long_ago),
        "other": UserFactory(email="other@example.com", date_joined=long_ago),
        "locked_out": UserFactory(email="late@example.com", date_joined=long_ago),
    }
    for actor, role in [
        ("privacy_officer", PRIVACY_OFFICER),
        ("analyst", PRODUCT_ANALYST),
        ("support", SUPPORT),
        ("superuser", None),
    ]:
        person = UserFactory(
            email=f"{actor}@staff.example.com",
            date_joined=long_ago,
            is_staff=True,
            is_superuser=role is None,
        )
        if role:
            person.groups.add(Group.objects.get(name=role))
        people[actor] = person
    for actor, person in people.items():
        if actor != "locked_out":
            decide(person, policy, Choice.OPT_OUT)
    record = decide(people["owner"], policy, Choice.OPT_IN)
    conversation = conversation_start(user=people["owner"], text="Something private")
    experiment = Experiment.objects.create(key="copy-test", name="Copy", surface="first_login")
    kwargs = {
        "conversation_id": conversation.pk,
        "record_id": record.pk,
        "version": policy.version,
        "key": experiment.key,
        "user_id": people["owner"].pk,
        "rest": "nowhere",
        "tree_size": 1,
        "snapshot_key": "no-such-snapshot",
        "arm_id": 1,
        # Emailed links (sign-up, email change, password reset) with a token that is not valid.
        "token": "not-a-valid-token",
        "uidb64": "MQ",
    }
    return people, kwargs, service_token_issue(name="matrix").secret


def client_for(actor: str, people: dict, token: str) -> Client:
    if actor == "service":
        return Client(headers={"Authorization": f"Bearer {token}"})
    client = Client()
    if actor != "anonymous":
        client.force_login(people[actor], backend="consent.backends.ConsentStandingBackend")
    return client


def url_for(name: str, sample: dict) -> str:
    pattern = dict(discovered_urls())  # name -> pattern, to know which kwargs it takes
    wanted = [key for key in sample if f"<{key}>" in pattern[name] or f":{key}>" in pattern[name]]
    return reverse(name, kwargs={key: sample[key] for key in wanted})


def status_of(client: Client, method: str, url: str) -> int:
    with transaction.atomic():
        response = client.get(url) if method == "GET" else client.post(url, {})
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.parametrize("name", sorted(URL_MATRIX))
def test_url_answers_each_actor_as_the_matrix_says(world, name):
    people, sample, token = world
    method, expected = URL_MATRIX[name]
    url = url_for(name, sample)

    actual = {actor: status_of(client_for(actor, people, token), method, url) for actor in ACTORS}

    assert actual == dict(zip(ACTORS, expected, strict=True))


@pytest.mark.parametrize("label", sorted(ADMIN_MATRIX))
def test_admin_list_answers_each_actor_as_the_matrix_says(world, label):
    people, _, token = world
    app_label, model_name = label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")

    actual = {
        actor: status_of(client_for(actor, people, token), "GET", url) for actor in ADMIN_ACTORS
    }

    assert actual == dict(zip(ADMIN_ACTORS, ADMIN_MATRIX[label], strict=True))
