"""Download my data and delete my account: services and views."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRecord, UserConsentState
from conversations.models import Conversation, Message
from retention.services import hold_place
from tests.factories import PASSWORD
from training import errors
from training.data_rights import personal_data_for, pseudonymous_email, user_account_delete
from training.models import TrainingUse
from training.views import ACCOUNT_DELETED

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("training:data_export")
DELETE_URL = reverse("training:account_delete")


@pytest.fixture
def me(user, decide):
    """The logged-in person of ``client_logged_in``, opted in so the gate lets them through."""
    decide.opt_in(user)
    return user


@pytest.fixture
def my_chat(me, chat):
    return chat(me, "Draft a letter to my landlord")


@pytest.fixture
def their_chat(other_user, decide, chat):
    decide.opt_in(other_user)
    return chat(other_user, "Someone else's secret plans")


def download(client) -> dict:
    response = client.post(EXPORT_URL)
    assert response.status_code == 200
    return json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )


# --- Download my data --------------------------------------------------------------------


def test_download_holds_profile_conversations_receipts_and_training_uses(
    client_logged_in, me, my_chat, export
):
    snapshot = export()

    data = download(client_logged_in)

    assert data["profile"]["email"] == me.email
    [conversation] = data["conversations"]
    assert conversation["title"] == "Draft a letter to my landlord"
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][0]["content"] == "Draft a letter to my landlord"
    [receipt] = data["consent"]["records"]
    assert receipt["record_id"] == str(ConsentRecord.objects.get(user=me).pk)
    assert receipt["state"] == "dpv:ConsentGiven"
    assert data["consent"]["current"]["choice"] == "opt_in"
    [use] = data["training_uses"]
    assert (use["conversation_id"], use["snapshot"]) == (my_chat.pk, snapshot.label)


def test_download_is_an_attachment_never_cached(client_logged_in, me):
    response = client_logged_in.post(EXPORT_URL)

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert "no-store" in response["Cache-Control"]


def test_download_never_contains_another_users_data(
    client_logged_in, me, my_chat, their_chat, other_user, export
):
    export()

    body = client_logged_in.post(EXPORT_URL).content.decode()

    assert "Someone else's secret plans" not in body
    assert other_user.email not in body
    assert str(ConsentRecord.objects.get(user=other_user).pk) not in body
    assert f'"conversation_id": {their_chat.pk}' not in body


def test_receipts_in_the_download_are_oldest_first(me, decide):
    decide.opt_out(me)

    records = personal_data_for(me)["consent"]["records"]

    assert [r["choice"] for r in records] == ["opt_in", "opt_out"]


def test_download_holds_not_nows_reminders_lockouts_and_experiment_designs(
    me, other_user, policy, clock
):
    from consent.models import DeadlineReminder, Lockout, ModalVariant, NoticeDeferral
    from experiments.models import Assignment, Exposure
    from tests.experiments.factories import ArmFactory, ExperimentFactory

    now = timezone.now()
    for person in (me, other_user):
        NoticeDeferral.objects.create(
            user=person, policy=policy, deferred_at=now, hidden_until=now + timedelta(days=1)
        )
        DeadlineReminder.objects.create(user=person, policy=policy, kind="7d", sent_at=now)
        Lockout.objects.create(user=person, policy=policy, locked_at=now, recorded_at=now)
    experiment = ExperimentFactory(name="Toggle wording")
    arm = ArmFactory(experiment=experiment, variant=ModalVariant.objects.get(key="two_buttons"))
    Assignment.objects.create(experiment=experiment, user=me, arm=arm, assigned_at=now)
    Exposure.objects.create(experiment=experiment, user=me, arm=arm, exposed_at=now)

    data = personal_data_for(me)

    [not_now] = data["consent"]["not_now"]
    assert not_now["notice_hidden_until"] == (now + timedelta(days=1)).isoformat()
    [reminder] = data["consent"]["reminders"]
    assert reminder["kind"] == "7 days before the deadline"
    [lockout] = data["consent"]["lockouts"]
    assert (lockout["locked_at"], lockout["unlocked_at"]) == (now.isoformat(), None)
    assert data["experiments"] == [
        {
            "experiment": "Toggle wording",
            "phase": 1,
            "design": arm.variant.name,
            "assigned_at": now.isoformat(),
            "first_shown_at": now.isoformat(),
        }
    ]
    assert personal_data_for(other_user)["experiments"] == []


def test_download_page_says_what_the_file_holds(client_logged_in, me, my_chat):
    response = client_logged_in.get(EXPORT_URL)

    assert response.status_code == 200
    assert "1 conversation," in response.content.decode()


# --- Delete my account -------------------------------------------------------------------


def test_confirm_page_explains_what_is_deleted_and_what_is_kept_before_asking(
    client_logged_in, me, my_chat
):
    page = client_logged_in.get(DELETE_URL).content.decode()

    assert "Deleted at once" in page
    assert "conversations (1) and every message" in page
    assert "Kept, under an anonymous id" in page
    assert "consent decisions" in page
    assert "used in training" in page
    assert page.index("Kept, under an anonymous id") < page.index('type="password"')


def test_delete_with_the_password_removes_conversations_and_logs_out(client_logged_in, me, my_chat):
    response = client_logged_in.post(DELETE_URL, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("accounts:login"), 303)]
    assert ACCOUNT_DELETED in response.content.decode()
    assert not Conversation.objects.filter(user=me).exists()
    assert not Message.objects.filter(conversation_id=my_chat.pk).exists()
    assert client_logged_in.get(reverse("consent:privacy_settings")).status_code == 302


def test_deleted_account_is_pseudonymised_not_removed(client_logged_in, me):
    client_logged_in.post(DELETE_URL, {"password": PASSWORD})

    me.refresh_from_db()
    assert me.email == pseudonymous_email(me.pk) == f"deleted-{me.pk}@invalid"
    assert (me.display_name, me.country, me.is_active) == ("", "", False)
    assert not me.has_usable_password()
    assert me.pseudonymised_at is not None


def test_deleted_account_leaves_no_login_name_in_failed_login_records(client_logged_in, me):
    from axes.models import AccessAttempt
    from django.test import Client

    email = me.email
    Client().post(reverse("accounts:login"), {"username": email, "password": "wrong-password"})
    assert AccessAttempt.objects.filter(username__iexact=email).exists()

    client_logged_in.post(DELETE_URL, {"password": PASSWORD})

    assert not AccessAttempt.objects.filter(username__iexact=email).exists()


def test_delete_keeps_consent_records_state_and_training_ledger(
    client_logged_in, me, my_chat, export
):
    export()

    client_logged_in.post(DELETE_URL, {"password": PASSWORD})

    assert ConsentRecord.objects.filter(user=me).count() == 1
    assert UserConsentState.objects.filter(user=me).exists()
    assert TrainingUse.objects.filter(user_id=me.pk, conversation_id=my_chat.pk).exists()


def test_delete_ends_the_users_other_sessions(client_logged_in, me):
    other_device = Client()
    other_device.force_login(me, backend="consent.backends.ConsentStandingBackend")

    client_logged_in.post(DELETE_URL, {"password": PASSWORD})

    response = other_device.get(reverse("consent:privacy_settings"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_deleted_account_cannot_log_in_again(client, client_logged_in, me):
    email = me.email
    client_logged_in.post(DELETE_URL, {"password": PASSWORD})

    response = client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_password_deletes_nothing_and_says_what_to_do(client_logged_in, me, my_chat):
    response = client_logged_in.post(DELETE_URL, {"password": "not my password"})

    assert response.status_code == 200
    assert str(errors.WRONG_PASSWORD) in response.content.decode()
    assert Conversation.objects.filter(pk=my_chat.pk).exists()
    me.refresh_from_db()
    assert me.is_active and me.pseudonymised_at is None


def test_delete_leaves_other_users_untouched(client_logged_in, me, their_chat, other_user):
    client_logged_in.post(DELETE_URL, {"password": PASSWORD})

    other_user.refresh_from_db()
    assert other_user.is_active and other_user.email == "someone.else@example.com"
    assert Conversation.objects.filter(pk=their_chat.pk).exists()


def test_conversation_under_a_legal_hold_stays_until_the_hold_ends(me, chat):
    held, gone = chat(me, "keep me"), chat(me, "delete me")
    hold_place(reason="Case 2027-114", conversation=held)

    deletion = user_account_delete(user=me)

    assert (deletion.conversations_deleted, deletion.conversations_held) == (1, 1)
    assert not Conversation.objects.filter(pk=gone.pk).exists()
    held.refresh_from_db()
    # Hidden like the owner's own delete, and due at once: the first purge after the hold
    # ends deletes it.
    assert held.deleted_by_user_at == held.retain_until == timezone.now()


def test_account_delete_counts_what_it_deleted(me, chat):
    chat(me)
    chat(me)

    deletion = user_account_delete(user=me)

    assert (deletion.conversations_deleted, deletion.messages_deleted) == (2, 4)
    assert get_user_model().objects.filter(pk=me.pk).exists()


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [EXPORT_URL, DELETE_URL])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_login(client, url, method):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize("url", [EXPORT_URL, DELETE_URL])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_not_allowed(client_logged_in, me, url, method):
    assert getattr(client_logged_in, method)(url).status_code == 405


@pytest.mark.parametrize("url", [EXPORT_URL, DELETE_URL])
def test_post_without_csrf_token_is_refused(me, url, my_chat):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(me, backend="consent.backends.ConsentStandingBackend")

    response = browser.post(url, {"password": PASSWORD})

    assert response.status_code == 403
    assert Conversation.objects.filter(pk=my_chat.pk).exists()


@pytest.mark.parametrize("url", [EXPORT_URL, DELETE_URL])
def test_undecided_new_user_reaches_their_data_rights_before_deciding(
    client_logged_in, policy, url
):
    # DESIGN §4 rule 5: data rights never wait behind the consent question (consent.gate).
    response = client_logged_in.get(url)

    assert response.status_code == 200


def test_privacy_settings_links_to_download_and_delete(client_logged_in, me):
    page = client_logged_in.get(reverse("consent:privacy_settings")).content.decode()

    assert f'href="{EXPORT_URL}"' in page
    assert f'href="{DELETE_URL}"' in page


def test_privacy_settings_lists_chats_used_in_training(client_logged_in, me, my_chat, export):
    snapshot = export()

    page = client_logged_in.get(reverse("consent:privacy_settings")).content.decode()

    assert "Draft a letter to my landlord" in page
    assert snapshot.label in page
