"""Temporary chats (DESIGN §4 rule 8): never used for training, kept at most the opt-out period."""

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.selectors import IneligibleReason, conversation_training_eligibility
from api.services import service_token_issue
from conversations.models import Conversation
from conversations.safety import conversation_safety_flag
from conversations.services import conversation_start, message_post
from retention.services import retention_purge_run
from tests.factories import UserFactory
from training.data_rights import personal_data_for
from training.selectors import eligible_conversations

pytestmark = pytest.mark.django_db

THIRTY_DAYS = timedelta(days=30)


@pytest.fixture
def opted_in(decide, user):
    decide.opt_in(user)
    return user


def test_temporary_chat_of_an_opted_in_user_is_not_covered_and_kept_30_days(opted_in):
    conversation = conversation_start(user=opted_in, text="Just between us", temporary=True)

    conversation.refresh_from_db()
    assert conversation.is_temporary
    assert conversation.covered_by_id is None
    assert conversation.retain_until == conversation.last_activity_at + THIRTY_DAYS
    assert not eligible_conversations().filter(pk=conversation.pk).exists()


def test_a_normal_chat_of_the_same_user_is_covered(opted_in):
    conversation = conversation_start(user=opted_in, text="Use this one")

    conversation.refresh_from_db()
    assert not conversation.is_temporary
    assert conversation.covered_by_id is not None
    assert eligible_conversations().filter(pk=conversation.pk).exists()


def test_replying_to_a_temporary_chat_never_covers_it(opted_in, clock):
    conversation = conversation_start(user=opted_in, text="Just between us", temporary=True)
    clock.shift(timedelta(days=20))

    message_post(conversation=conversation, text="And another thing")

    conversation.refresh_from_db()
    assert conversation.covered_by_id is None
    assert conversation.retain_until == timezone.now() + THIRTY_DAYS
    assert not eligible_conversations().filter(pk=conversation.pk).exists()


def test_opting_in_after_starting_a_temporary_chat_keeps_it_out_and_on_30_days(decide, user, clock):
    decide.opt_out(user)
    conversation = conversation_start(user=user, text="Private", temporary=True)
    started = Conversation.objects.get(pk=conversation.pk).last_activity_at

    decide.opt_in(user)

    conversation.refresh_from_db()
    assert conversation.retain_until == started + THIRTY_DAYS
    assert not eligible_conversations().filter(pk=conversation.pk).exists()


def test_a_safety_flag_does_not_keep_a_temporary_chat_past_30_days(opted_in):
    conversation = conversation_start(user=opted_in, text="Private", temporary=True)

    conversation_safety_flag(conversation=conversation)

    conversation.refresh_from_db()
    assert conversation.safety_flagged_at is not None
    assert conversation.retain_until == conversation.last_activity_at + THIRTY_DAYS


def test_a_flagged_temporary_chat_stays_on_30_days_when_the_choice_changes(decide, opted_in, clock):
    conversation = conversation_start(user=opted_in, text="Private", temporary=True)
    conversation_safety_flag(conversation=conversation)
    clock.shift(timedelta(days=2))

    decide.opt_out(opted_in)
    decide.opt_in(opted_in)

    conversation.refresh_from_db()
    assert conversation.retain_until == conversation.last_activity_at + THIRTY_DAYS


def test_the_database_refuses_to_cover_a_temporary_chat(opted_in):
    covered = conversation_start(user=opted_in, text="Covered")
    temporary = conversation_start(user=opted_in, text="Private", temporary=True)
    record_id = Conversation.objects.get(pk=covered.pk).covered_by_id

    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=temporary.pk).update(covered_by_id=record_id)


def test_purge_deletes_a_temporary_chat_of_an_opted_in_user_after_30_days(opted_in, clock):
    temporary = conversation_start(user=opted_in, text="Private", temporary=True)
    kept = conversation_start(user=opted_in, text="Covered")
    clock.shift(THIRTY_DAYS + timedelta(seconds=1))

    retention_purge_run()

    assert not Conversation.objects.filter(pk=temporary.pk).exists()
    assert Conversation.objects.filter(pk=kept.pk).exists()


# --- The consent API -----------------------------------------------------------------------


def test_api_says_a_temporary_chat_is_ineligible_because_it_is_temporary(opted_in):
    conversation = conversation_start(user=opted_in, text="Private", temporary=True)
    token = service_token_issue(name="trainer")

    response = self_client(token).get(
        reverse(
            "api:conversation_training_eligibility", kwargs={"conversation_id": conversation.pk}
        )
    )

    assert response.status_code == 200
    assert (response.json()["eligible"], response.json()["reason"]) == (False, "temporary")


def test_temporary_is_the_reason_whatever_the_owner_chose(decide, user):
    conversation = conversation_start(user=user, text="Private", temporary=True)

    undecided = conversation_training_eligibility(
        conversation_id=conversation.pk, now=timezone.now()
    )
    decide.opt_out(user)
    opted_out = conversation_training_eligibility(
        conversation_id=conversation.pk, now=timezone.now()
    )

    assert undecided.reason == opted_out.reason == IneligibleReason.TEMPORARY


def self_client(token) -> Client:
    return Client(headers={"Authorization": f"Bearer {token.secret}"})


# --- Download my data -------------------------------------------------------------------------


def test_download_my_data_includes_temporary_chats_marked_as_such(opted_in):
    conversation_start(user=opted_in, text="Covered")
    temporary = conversation_start(user=opted_in, text="Private", temporary=True)

    exported = personal_data_for(opted_in)["conversations"]

    assert [(c["id"], c["is_temporary"]) for c in exported][-1] == (temporary.pk, True)
    assert [c["is_temporary"] for c in exported] == [False, True]
    assert exported[-1]["messages"][0]["content"] == "Private"


def test_download_page_counts_temporary_chats(client_logged_in, opted_in):
    conversation_start(user=opted_in, text="Covered")
    conversation_start(user=opted_in, text="Private", temporary=True)

    page = client_logged_in.get(reverse("training:data_export"))
    download = client_logged_in.post(reverse("training:data_export"))

    assert "your 2 conversations" in page.content.decode()
    body = json.loads(download.content)
    assert sum(c["is_temporary"] for c in body["conversations"]) == 1


# --- Starting one ---------------------------------------------------------------------------


def test_new_chat_form_offers_a_labelled_temporary_switch_with_its_explanation(
    client_logged_in, opted_in
):
    html = client_logged_in.get(reverse("conversations:new")).content.decode()

    assert 'role="switch"' in html
    assert 'name="temporary"' in html
    assert 'aria-describedby="id_temporary_helptext"' in html
    assert "Temporary chat" in html
    assert "Never used to improve the model, whatever your choice; deleted 30 days" in html


def test_ticking_temporary_without_javascript_starts_a_temporary_chat(client_logged_in, user):
    response = client_logged_in.post(
        reverse("conversations:new"), {"text": "Off the record", "temporary": "on"}
    )

    conversation = Conversation.objects.get(user=user)
    assert response.status_code == 303
    assert conversation.is_temporary


def test_leaving_temporary_unticked_starts_a_normal_chat(client_logged_in, user):
    client_logged_in.post(reverse("conversations:new"), {"text": "On the record"})

    assert not Conversation.objects.get(user=user).is_temporary


# --- Admin ----------------------------------------------------------------------------------


def test_admin_list_marks_and_filters_temporary_chats(client, opted_in):
    temporary = conversation_start(user=opted_in, text="Private", temporary=True)
    conversation_start(user=opted_in, text="Covered")
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)

    listed = client.get(
        reverse("admin:conversations_conversation_changelist"), {"is_temporary__exact": "1"}
    )

    assert listed.status_code == 200
    assert [c.pk for c in listed.context["cl"].result_list] == [temporary.pk]
    assert "temporary chat" in listed.content.decode().lower()
