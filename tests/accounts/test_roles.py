"""Staff roles: the groups the migration creates, ``sync_roles``, and each role's boundary
proved by a status code (403) or an absent row, not by a hidden link."""

import importlib
import secrets
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.roles import PRIVACY_OFFICER, PRODUCT_ANALYST, ROLES, SUPPORT, roles_sync
from consent.models import Choice, ConsentRecord, Policy
from conversations.services import conversation_start
from experiments.models import Experiment
from tests.admin_inlines import NO_TRANSLATIONS
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory, settings_decision
from training.models import TrainingUse
from training.services import training_snapshot_export

pytestmark = pytest.mark.django_db

roles_migration = importlib.import_module("accounts.migrations.0002_roles")
# Role changes after 0002 ship as their own migrations; replaying them must reach roles.py.
LATER_ROLE_MIGRATIONS = [
    importlib.import_module("accounts.migrations.0003_privacy_officer_flags_safety"),
    importlib.import_module("accounts.migrations.0005_privacy_officer_views_evidence"),
    importlib.import_module("accounts.migrations.0006_privacy_officer_exports_evidence"),
    importlib.import_module("accounts.migrations.0008_privacy_officer_translates_consent_copy"),
    importlib.import_module("webhooks.migrations.0003_privacy_officer_permissions"),
    importlib.import_module("accounts.migrations.0009_roles_read_defaults_exports_ship_decisions"),
]


def role_permissions(role: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def member(role: str | None, *, email: str | None = None, superuser: bool = False):
    """A decided staff member of the role (decided: the consent gate stays out of the way)."""
    user = UserFactory(
        email=email or f"{secrets.token_hex(4)}@staff.example.com",
        is_staff=True,
        is_superuser=superuser,
        date_joined=timezone.now() - timedelta(days=400),
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def decide(user, policy, choice=Choice.OPT_IN) -> ConsentRecord:
    return settings_decision(user, policy, choice)


@pytest.fixture
def policy(db):
    return PolicyFactory(effective_at=timezone.now() - timedelta(days=10))


@pytest.fixture
def record(policy) -> ConsentRecord:
    return decide(UserFactory(), policy)


@pytest.fixture
def experiment(db) -> Experiment:
    return Experiment.objects.create(key="consent-copy", name="Consent copy", surface="first_login")


def signed_in(client, user):
    client.force_login(user)
    return client


# --- The groups ---------------------------------------------------------------------------


def test_migrated_database_holds_every_role_exactly_as_defined():
    changes = roles_sync(dry_run=True)

    assert [str(change) for change in changes if change.changed] == []
    assert {role: role_permissions(role) for role in ROLES} == {
        role: set(perms) for role, perms in ROLES.items()
    }


def test_migration_reverse_removes_the_roles_and_forward_restores_them():
    roles_migration.delete_roles(global_apps, None)
    assert not Group.objects.filter(name__in=ROLES).exists()

    roles_migration.create_roles(global_apps, None)
    for later in LATER_ROLE_MIGRATIONS:  # each one's forward step, as migrate runs it
        for operation in later.Migration.operations:
            operation.code(global_apps, None)

    assert {role: role_permissions(role) for role in ROLES} == {
        role: set(perms) for role, perms in ROLES.items()
    }


def test_sync_creates_a_missing_role():
    Group.objects.filter(name=SUPPORT).delete()

    changes = {change.role: change for change in roles_sync()}

    assert changes[SUPPORT].created
    assert role_permissions(SUPPORT) == set(ROLES[SUPPORT])


def test_sync_is_idempotent():
    roles_sync()

    assert not any(change.changed for change in roles_sync())


def test_sync_removes_a_permission_added_to_a_role_by_hand():
    extra = Permission.objects.get(content_type__app_label="conversations", codename="view_message")
    Group.objects.get(name=SUPPORT).permissions.add(extra)

    changes = {change.role: change for change in roles_sync()}

    assert changes[SUPPORT].removed == ["conversations.view_message"]
    assert "conversations.view_message" not in role_permissions(SUPPORT)


def test_sync_leaves_other_groups_alone():
    other = Group.objects.create(name="Auditors")
    other.permissions.add(Permission.objects.get(codename="view_message"))

    roles_sync()

    assert list(other.permissions.values_list("codename", flat=True)) == ["view_message"]


def test_a_role_naming_an_unknown_permission_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match=r"consent\.fly_to_the_moon"):
        roles_sync(roles={"Broken": frozenset({"consent.fly_to_the_moon"})})

    assert not Group.objects.filter(name="Broken").exists()


def test_sync_roles_check_fails_on_drift_and_sync_roles_repairs_it(capsys):
    Group.objects.get(name=PRODUCT_ANALYST).permissions.clear()

    with pytest.raises(CommandError, match=PRODUCT_ANALYST):
        call_command("sync_roles", "--check")
    call_command("sync_roles")
    call_command("sync_roles", "--check")

    assert role_permissions(PRODUCT_ANALYST) == set(ROLES[PRODUCT_ANALYST])


def test_no_role_holds_any_permission_on_message_content():
    for role in ROLES:
        assert not {p for p in role_permissions(role) if p.startswith("conversations.")} - {
            "conversations.view_conversation"
        }, role


def test_analyst_holds_no_permission_on_consent_records_state_or_users():
    forbidden = {
        p
        for p in role_permissions(PRODUCT_ANALYST)
        if p.startswith(("consent.", "accounts.", "conversations.", "training."))
    }

    assert forbidden == {"consent.view_modalvariant"}


# --- Product analyst ----------------------------------------------------------------------


def test_analyst_is_refused_the_consent_record_list(client, policy):
    response = signed_in(client, member(PRODUCT_ANALYST)).get(
        reverse("admin:consent_consentrecord_changelist")
    )

    assert response.status_code == 403


def test_analyst_is_refused_a_consent_record(client, record):
    response = signed_in(client, member(PRODUCT_ANALYST)).get(
        reverse("admin:consent_consentrecord_change", args=[record.pk])
    )

    assert response.status_code == 403


def test_analyst_is_refused_the_conversation_admin(client, policy):
    conversation = conversation_start(user=UserFactory(), text="private words")

    analyst = signed_in(client, member(PRODUCT_ANALYST))

    assert analyst.get(reverse("admin:conversations_conversation_changelist")).status_code == 403
    assert (
        analyst.get(
            reverse("admin:conversations_conversation_change", args=[conversation.pk])
        ).status_code
        == 403
    )


def test_analyst_reads_the_experiment_dashboard(client, experiment):
    response = signed_in(client, member(PRODUCT_ANALYST)).get(
        reverse("experiments:dashboard", kwargs={"key": experiment.key})
    )

    assert response.status_code == 200


def test_analyst_opens_the_new_experiment_form_in_admin(client, db):
    response = signed_in(client, member(PRODUCT_ANALYST)).get(
        reverse("admin:experiments_experiment_add")
    )

    assert response.status_code == 200


# --- Support ------------------------------------------------------------------------------


def test_support_reads_a_consent_record_without_a_way_to_change_it(client, record):
    support = signed_in(client, member(SUPPORT))
    url = reverse("admin:consent_consentrecord_change", args=[record.pk])

    page = support.get(url)
    edit = support.post(url, {"choice": Choice.OPT_OUT})

    assert page.status_code == 200
    assert record.record_hash in page.content.decode()
    assert edit.status_code == 403
    assert ConsentRecord.objects.get(pk=record.pk).choice == Choice.OPT_IN


def test_support_reads_a_users_consent_state(client, record):
    response = signed_in(client, member(SUPPORT)).get(
        reverse("admin:consent_userconsentstate_change", args=[record.user_id])
    )

    assert response.status_code == 200


def test_support_is_refused_the_experiment_dashboard(client, experiment):
    response = signed_in(client, member(SUPPORT)).get(
        reverse("experiments:dashboard", kwargs={"key": experiment.key})
    )

    assert response.status_code == 403


def test_support_is_refused_the_conversation_admin(client, policy):
    response = signed_in(client, member(SUPPORT)).get(
        reverse("admin:conversations_conversation_changelist")
    )

    assert response.status_code == 403


# --- Privacy officer ----------------------------------------------------------------------


def test_privacy_officer_publishes_a_policy_version(client, db):
    officer = signed_in(client, member(PRIVACY_OFFICER))
    now = timezone.now()

    response = officer.post(
        reverse("admin:consent_policy_add"),
        {
            "version": "2027-01",
            "title": "Terms 2027",
            "summary": "We would like to use your chats to improve our models.",
            "body": "Full text.",
            "effective_at_0": (now + timedelta(days=7)).strftime("%Y-%m-%d"),
            "effective_at_1": "00:00:00",
            "decision_deadline_0": (now + timedelta(days=37)).strftime("%Y-%m-%d"),
            "decision_deadline_1": "00:00:00",
            "opt_in_retention": "1825",
            "opt_out_retention": "30",
            "change_kind": "material",
            **NO_TRANSLATIONS,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Policy.objects.filter(version="2027-01").exists()


def test_privacy_officer_reads_records_but_cannot_change_them(client, record):
    officer = signed_in(client, member(PRIVACY_OFFICER))
    url = reverse("admin:consent_consentrecord_change", args=[record.pk])

    assert officer.get(url).status_code == 200
    assert officer.post(url, {"choice": Choice.OPT_OUT}).status_code == 403


def test_privacy_officer_sees_conversation_metadata_never_its_content(client, policy):
    conversation = conversation_start(user=UserFactory(), text="my secret recipe for bread")
    officer = signed_in(client, member(PRIVACY_OFFICER))

    pages = [
        officer.get(reverse("admin:conversations_conversation_changelist")),
        officer.get(reverse("admin:conversations_conversation_change", args=[conversation.pk])),
    ]

    assert [page.status_code for page in pages] == [200, 200]
    assert all("secret recipe" not in page.content.decode() for page in pages)
    assert f"Conversation #{conversation.pk}" in pages[1].content.decode()


def test_privacy_officer_is_refused_the_experiment_dashboard(client, experiment):
    response = signed_in(client, member(PRIVACY_OFFICER)).get(
        reverse("experiments:dashboard", kwargs={"key": experiment.key})
    )

    assert response.status_code == 403


# --- Nobody edits evidence, superusers included ---------------------------------------------


def test_superuser_cannot_delete_a_consent_record(client, record):
    superuser = signed_in(client, member(None, superuser=True))

    response = superuser.post(
        reverse("admin:consent_consentrecord_delete", args=[record.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_superuser_cannot_change_a_consent_record(client, record):
    superuser = signed_in(client, member(None, superuser=True))

    response = superuser.post(
        reverse("admin:consent_consentrecord_change", args=[record.pk]),
        {"choice": Choice.OPT_OUT},
    )

    assert response.status_code == 403
    assert ConsentRecord.objects.get(pk=record.pk).choice == Choice.OPT_IN


def test_superuser_cannot_delete_records_in_bulk(client, record):
    superuser = signed_in(client, member(None, superuser=True))

    response = superuser.post(
        reverse("admin:consent_consentrecord_changelist"),
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )

    assert response.status_code in (200, 302)
    assert ConsentRecord.objects.filter(pk=record.pk).exists()


def test_superuser_cannot_change_or_delete_a_training_ledger_row(client, policy, tmp_path):
    owner = UserFactory(date_joined=timezone.now() - timedelta(days=400))
    decide(owner, policy)
    conversation_start(user=owner, text="How do I bake bread?")
    training_snapshot_export(out_path=tmp_path / "snapshot.jsonl")
    use = TrainingUse.objects.get()
    superuser = signed_in(client, member(None, superuser=True))

    change = superuser.post(
        reverse("admin:training_traininguse_change", args=[use.pk]), {"conversation_id": 1}
    )
    delete = superuser.post(
        reverse("admin:training_traininguse_delete", args=[use.pk]), {"post": "yes"}
    )

    assert (change.status_code, delete.status_code) == (403, 403)
    assert TrainingUse.objects.filter(pk=use.pk, conversation_id=use.conversation_id).exists()
