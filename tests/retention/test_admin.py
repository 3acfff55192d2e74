from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation
from retention import errors
from retention.models import Hold, PurgeLock
from retention.services import hold_place, retention_purge_run
from tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Plans for my divorce"
SECRET_MESSAGE = "the bank account number is 1234"


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root@example.com", "correct-horse-battery")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser, backend="consent.backends.ConsentStandingBackend")
    return client


@pytest.fixture
def conversation(db):
    conversation = ConversationFactory(title=SECRET_TITLE)
    MessageFactory(conversation=conversation, content=SECRET_MESSAGE)
    MessageFactory(conversation=conversation, content="another private line")
    return conversation


@pytest.fixture
def run(db):
    return retention_purge_run()


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def test_retention_run_changelist_and_change_view_load(admin_client, run):
    listing = admin_client.get(url("retention_retentionrun_changelist"))
    detail = admin_client.get(url("retention_retentionrun_change", run.pk))

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert "succeeded" in listing.content.decode().lower()


def test_retention_run_is_read_only_even_for_a_superuser(admin_client, run):
    add = admin_client.get(url("retention_retentionrun_add"))
    change = admin_client.post(url("retention_retentionrun_change", run.pk), {"status": "failed"})
    delete = admin_client.post(url("retention_retentionrun_delete", run.pk), {"post": "yes"})

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_purge_lock_admin_loads_read_only(admin_client):
    PurgeLock.objects.create(
        name="retention-purge",
        holder="host:1",
        acquired_at=timezone.now(),
        expires_at=timezone.now(),
    )

    assert admin_client.get(url("retention_purgelock_changelist")).status_code == 200
    assert admin_client.get(url("retention_purgelock_add")).status_code == 403


def test_conversation_admin_shows_metadata_and_message_count_but_no_content(
    admin_client, conversation
):
    listing = admin_client.get(url("conversations_conversation_changelist")).content.decode()
    detail = admin_client.get(url("conversations_conversation_change", conversation.pk))
    history = admin_client.get(url("conversations_conversation_history", conversation.pk))

    assert detail.status_code == 200
    assert history.status_code == 200
    for page in (listing, detail.content.decode(), history.content.decode()):
        assert SECRET_TITLE not in page
        assert SECRET_MESSAGE not in page
        assert f"Conversation #{conversation.pk}" in page
    assert '<td class="field-message_count">2</td>' in listing


def test_conversation_admin_cannot_add_edit_or_delete(admin_client, conversation):
    assert admin_client.get(url("conversations_conversation_add")).status_code == 403
    assert (
        admin_client.post(
            url("conversations_conversation_delete", conversation.pk), {"post": "yes"}
        ).status_code
        == 403
    )


def test_place_on_hold_action_asks_for_a_reason_first(admin_client, conversation):
    response = admin_client.post(
        url("conversations_conversation_changelist"),
        {"action": "place_hold", ACTION_CHECKBOX_NAME: [conversation.pk]},
    )

    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    assert SECRET_TITLE not in response.content.decode()
    assert not Hold.objects.exists()


def test_place_on_hold_action_holds_the_selected_conversations(
    admin_client, superuser, conversation
):
    response = admin_client.post(
        url("conversations_conversation_changelist"),
        {
            "action": "place_hold",
            ACTION_CHECKBOX_NAME: [conversation.pk],
            "apply": "1",
            "reason": "case 7",
            "until": "",
        },
    )

    assert response.status_code == 302
    hold = Hold.objects.get()
    assert (hold.conversation, hold.reason, hold.until, hold.created_by) == (
        conversation,
        "case 7",
        None,
        superuser,
    )
    entry = LogEntry.objects.get()
    assert entry.object_repr == f"Conversation #{conversation.pk}"


def test_flag_and_clear_safety_actions(admin_client, conversation):
    changelist = url("conversations_conversation_changelist")
    before = conversation.retain_until

    admin_client.post(
        changelist, {"action": "flag_for_safety", ACTION_CHECKBOX_NAME: [conversation.pk]}
    )
    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is not None
    assert conversation.retain_until > before

    admin_client.post(
        changelist, {"action": "clear_safety_flag", ACTION_CHECKBOX_NAME: [conversation.pk]}
    )
    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is None


def test_hold_admin_pages_load_without_conversation_content(admin_client, conversation, superuser):
    hold = hold_place(conversation=conversation, reason="case 9", created_by=superuser)

    listing = admin_client.get(url("retention_hold_changelist"))
    detail = admin_client.get(url("retention_hold_change", hold.pk))
    add = admin_client.get(url("retention_hold_add"))

    assert (listing.status_code, detail.status_code, add.status_code) == (200, 200, 200)
    for page in (listing, detail):
        assert SECRET_TITLE not in page.content.decode()
        assert f"Conversation #{conversation.pk}" in page.content.decode()


def test_hold_admin_creates_a_hold_through_the_service(admin_client, superuser, conversation):
    response = admin_client.post(
        url("retention_hold_add"),
        {"conversation": conversation.pk, "user": "", "reason": "subpoena", "until": ""},
    )

    assert response.status_code == 302
    hold = Hold.objects.get()
    assert hold.created_by == superuser
    conversation.refresh_from_db()
    assert conversation.hold_reason == "subpoena"


def test_hold_admin_refuses_two_targets(admin_client, conversation):
    response = admin_client.post(
        url("retention_hold_add"),
        {"conversation": conversation.pk, "user": conversation.user.pk, "reason": "x", "until": ""},
    )

    assert response.status_code == 200
    assert str(errors.HOLD_TARGET_REQUIRED) in response.content.decode()
    assert not Hold.objects.exists()


def test_placed_hold_cannot_be_edited_or_deleted(admin_client, conversation, superuser):
    hold = hold_place(conversation=conversation, reason="case", created_by=superuser)

    edit = admin_client.post(url("retention_hold_change", hold.pk), {"reason": "changed"})
    delete = admin_client.post(url("retention_hold_delete", hold.pk), {"post": "yes"})

    assert (edit.status_code, delete.status_code) == (403, 403)
    hold.refresh_from_db()
    assert hold.reason == "case"


def test_release_hold_action_releases_and_resumes_retention(admin_client, superuser):
    conversation = ConversationFactory(retain_until=timezone.now() - timedelta(days=1))
    hold = hold_place(conversation=conversation, reason="case", created_by=superuser)

    admin_client.post(
        url("retention_hold_changelist"),
        {"action": "release_holds", ACTION_CHECKBOX_NAME: [hold.pk]},
    )
    hold.refresh_from_db()
    assert hold.released_by == superuser
    assert hold.released_at is not None

    retention_purge_run()

    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_staff_without_permissions_cannot_place_holds(client, conversation):
    staff = UserFactory(is_staff=True)
    client.force_login(staff, backend="consent.backends.ConsentStandingBackend")

    response = client.post(
        url("conversations_conversation_changelist"),
        {
            "action": "place_hold",
            ACTION_CHECKBOX_NAME: [conversation.pk],
            "apply": "1",
            "reason": "x",
        },
    )

    assert response.status_code == 403
    assert not Hold.objects.exists()


def staff_with(client, *codenames: str):
    staff = UserFactory(is_staff=True)
    for codename in codenames:
        app_label, name = codename.split(".")
        staff.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    client.force_login(staff, backend="consent.backends.ConsentStandingBackend")
    return client


def test_safety_flag_needs_the_flag_safety_permission(client, conversation):
    viewer = staff_with(client, "conversations.view_conversation")

    refused = viewer.post(
        url("conversations_conversation_changelist"),
        {"action": "flag_for_safety", ACTION_CHECKBOX_NAME: [conversation.pk]},
    )

    assert refused.status_code == 200  # the changelist again: no such action for this user
    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is None


def test_staff_with_flag_safety_permission_can_flag(client, conversation):
    flagger = staff_with(client, "conversations.view_conversation", "retention.flag_safety")

    flagger.post(
        url("conversations_conversation_changelist"),
        {"action": "flag_for_safety", ACTION_CHECKBOX_NAME: [conversation.pk]},
    )

    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is not None
