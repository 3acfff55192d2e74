"""Conversation content never reaches staff through admin (DESIGN §4 rule 6).

Titles are content: a conversation's title is the start of its first message. The attack
the hostile review found: Django's shared ``/admin/autocomplete/`` endpoint answers
``str(obj)`` for any relation field of any model whose target has a ModelAdmin (the
source model need not declare ``autocomplete_fields``), so the privacy officer could list
a user's titles by searching their email. The other doors checked here: admin search,
URL lookups answered with a row count (an oracle that reads a title letter by letter),
list and change pages, the hold form, and the change log.
"""

import logging
import uuid

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.db.models import ForeignObjectRel
from django.db.models.constants import LOOKUP_SEP
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import PRIVACY_OFFICER, PRODUCT_ANALYST, SUPPORT
from consent.models import Choice, Surface
from consent.services import consent_record_create
from conversations.models import Conversation, Message
from retention.services import hold_place
from tests.consent.factories import PolicyFactory
from tests.factories import ConversationFactory, MessageFactory, UserFactory
from training.models import TrainingSnapshot, TrainingUse

pytestmark = pytest.mark.django_db

# Searches use MARKER (pages echo the search term); the pages must not hold TELL.
MARKER = "Zanzibar"
TELL = "kidney results"
SECRET_TITLE = f"{MARKER} {TELL}"
SECRET_MESSAGE = f"{MARKER} {TELL} came back, please keep this quiet"
OWNER_EMAIL = "owner@example.com"
ACTORS = (PRIVACY_OFFICER, PRODUCT_ANALYST, SUPPORT, "superuser")
# Staff in every role (the superuser too) see no content anywhere in admin.
NO_CONTENT_ACTORS = ACTORS
# Content fields: where a model stores message text or a copy of it.
CONTENT_FIELDS = {
    (Conversation, "title"),
    (Message, "content"),
    (TrainingUse, "conversation_title"),
}


@pytest.fixture
def seeded(db):
    """A conversation with a distinctive title, a hold on it, and its training ledger row."""
    policy = PolicyFactory()
    owner = UserFactory(email=OWNER_EMAIL)
    record = consent_record_create(
        user=owner,
        policy=policy,
        choice=Choice.OPT_IN,
        surface=Surface.SETTINGS,
        form_key=uuid.uuid4().hex,
        shown_at=timezone.now(),
    )
    conversation = ConversationFactory(user=owner, title=SECRET_TITLE)
    MessageFactory(conversation=conversation, content=SECRET_MESSAGE)
    hold_place(reason="case 7", conversation=conversation, created_by=owner)
    hold_place(reason="case 8", user=owner, created_by=owner)
    snapshot = TrainingSnapshot.objects.create(
        snapshot_key="seeded",
        policy=policy,
        created_at=timezone.now(),
        conversation_count=1,
        message_count=1,
        file_name="seeded.jsonl",
        file_sha256="0" * 64,
        redaction_version="test",
    )
    TrainingUse.objects.create(
        snapshot=snapshot,
        conversation_id=conversation.pk,
        user_id=owner.pk,
        consent_record=record,
        content_sha256="1" * 64,
        conversation_title=SECRET_TITLE,
        created_at=timezone.now(),
    )
    return conversation


def staff_client(actor: str) -> Client:
    person = UserFactory(
        email=f"{actor.replace(' ', '-').lower()}@staff.example.com",
        is_staff=True,
        is_superuser=actor == "superuser",
    )
    if actor != "superuser":
        person.groups.add(Group.objects.get(name=actor))
    client = Client()
    client.force_login(person, backend="consent.backends.ConsentStandingBackend")
    return client


def assert_no_content(response) -> None:
    assert TELL not in response.content.decode()


def autocomplete_sources() -> list[tuple[str, str, str]]:
    """Every (app_label, model_name, field_name) ``/admin/autocomplete/`` serves.

    Declared ``autocomplete_fields`` of every ModelAdmin, and beyond them every forward
    relation field of every installed model whose target has a ModelAdmin: the endpoint
    checks only that the target is registered and searchable. (Reverse relations make
    Django's view fail before it reads a row.)
    """
    sources = set()
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.autocomplete_fields:
            sources.add((model._meta.app_label, model._meta.model_name, name))
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, ForeignObjectRel):
                continue
            remote = getattr(getattr(field, "remote_field", None), "model", None)
            if remote in admin.site._registry:
                sources.add((model._meta.app_label, model._meta.model_name, field.name))
    return sorted(sources)


def content_lookups(model, depth: int = 2) -> list[str]:
    """Every ORM path from ``model`` to a content field, following up to ``depth`` relations."""
    paths = []
    for field in model._meta.get_fields():
        if (model, field.name) in CONTENT_FIELDS:
            paths.append(field.name)
        elif depth and field.is_relation and field.related_model is not None:
            # A reverse relation's name is its query name (Conversation -> "messages").
            paths.extend(
                f"{field.name}{LOOKUP_SEP}{rest}"
                for rest in content_lookups(field.related_model, depth - 1)
            )
    return paths


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_autocomplete_sources_include_the_conversation_ones():
    sources = autocomplete_sources()

    assert ("retention", "hold", "conversation") in sources
    assert ("conversations", "message", "conversation") in sources


@pytest.mark.parametrize("actor", ACTORS)
def test_no_autocomplete_source_answers_with_conversation_content(seeded, actor):
    client = staff_client(actor)
    answered = 0

    for app_label, model_name, field_name in autocomplete_sources():
        for term in (MARKER, OWNER_EMAIL, str(seeded.pk), ""):
            response = client.get(
                reverse("admin:autocomplete"),
                {
                    "app_label": app_label,
                    "model_name": model_name,
                    "field_name": field_name,
                    "term": term,
                },
            )
            assert_no_content(response)
            answered += response.status_code == 200

    # The walk reached the endpoint: every actor can at least autocomplete something.
    assert answered > 0


def test_the_privacy_officer_finds_a_users_conversations_by_email_as_numbers_only(seeded):
    client = staff_client(PRIVACY_OFFICER)

    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "retention",
            "model_name": "hold",
            "field_name": "conversation",
            "term": OWNER_EMAIL,
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": str(seeded.pk), "text": f"Conversation #{seeded.pk}"}
    ]


@pytest.mark.parametrize("actor", ACTORS)
def test_no_changelist_search_answers_with_content_or_matches_on_it(seeded, actor):
    client = staff_client(actor)

    for model, model_admin in admin.site._registry.items():
        response = client.get(changelist_url(model), {"q": MARKER})
        assert_no_content(response)
        # An admin without search fields ignores q (its list is not a search answer).
        if response.status_code == 200 and actor != "superuser" and model_admin.search_fields:
            # Matching on a word of the title would tell the searcher it is there.
            assert response.context["cl"].result_count == 0, model
        response = client.get(changelist_url(model), {"q": OWNER_EMAIL})
        assert_no_content(response)


def test_only_staff_allowed_to_read_content_may_search_titles(seeded):
    officer, superuser = staff_client(PRIVACY_OFFICER), staff_client("superuser")
    url = changelist_url(Conversation)

    assert officer.get(url, {"q": MARKER}).context["cl"].result_count == 0
    assert superuser.get(url, {"q": MARKER}).context["cl"].result_count == 1


@pytest.mark.parametrize("actor", (PRIVACY_OFFICER, PRODUCT_ANALYST, SUPPORT))
def test_no_admin_url_lookup_on_content_answers_differently_for_a_match(seeded, actor):
    client = staff_client(actor)
    probed = 0

    for model in admin.site._registry:
        for path in content_lookups(model):
            url = changelist_url(model)
            hit = client.get(url, {f"{path}__startswith": MARKER})
            miss = client.get(url, {f"{path}__startswith": "Qqqq"})
            if hit.status_code == 200 and miss.status_code == 200:
                assert hit.context["cl"].result_count == miss.context["cl"].result_count, (
                    model,
                    path,
                )
            assert hit.status_code == miss.status_code, (model, path)
            probed += 1

    # Conversation, Hold and TrainingUse admins were probed.
    assert probed >= 3


@pytest.mark.parametrize("actor", ACTORS)
def test_conversation_and_hold_pages_show_no_content(seeded, actor):
    client = staff_client(actor)
    hold = seeded.holds.first()
    pages = [
        changelist_url(Conversation),
        reverse("admin:conversations_conversation_change", args=[seeded.pk]),
        reverse("admin:conversations_conversation_history", args=[seeded.pk]),
        changelist_url(type(hold)),
        reverse("admin:retention_hold_change", args=[hold.pk]),
        reverse("admin:retention_hold_add"),
        changelist_url(TrainingUse),
        reverse("admin:training_traininguse_change", args=[TrainingUse.objects.get().pk]),
    ]

    for page in pages:
        assert_no_content(client.get(page))


def test_the_hold_form_answers_without_content_on_success_and_error(seeded):
    client = staff_client(PRIVACY_OFFICER)
    url = reverse("admin:retention_hold_add")

    refused = client.post(url, {"conversation": seeded.pk, "user": seeded.user_id, "reason": ""})
    placed = client.post(url, {"conversation": seeded.pk, "reason": "case 9"}, follow=True)

    assert refused.status_code == 200 and placed.status_code == 200
    assert_no_content(refused)
    assert_no_content(placed)


def test_admin_actions_log_no_content(seeded, caplog):
    client = staff_client(PRIVACY_OFFICER)
    url = changelist_url(Conversation)

    with caplog.at_level(logging.DEBUG):
        client.post(url, {"action": "flag_for_safety", ACTION_CHECKBOX_NAME: [seeded.pk]})
        client.post(
            url,
            {
                "action": "place_hold",
                "apply": "1",
                "reason": "case 10",
                ACTION_CHECKBOX_NAME: [seeded.pk],
            },
        )

    entries = LogEntry.objects.filter(object_id=str(seeded.pk))
    assert entries.count() == 2
    assert all(TELL not in f"{e.object_repr} {e.change_message}" for e in entries)
    assert TELL not in caplog.text


def test_str_of_a_conversation_or_message_holds_no_content(seeded):
    message = seeded.messages.get()

    assert str(seeded) == f"Conversation #{seeded.pk}"
    assert TELL not in str(message)
