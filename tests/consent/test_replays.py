"""A replayed form records nothing and says what is true now, not what the old form asked."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from consent import replies
from consent.models import Choice, ConsentRecord, NoticeDeferral

from .conftest import form_token

pytestmark = pytest.mark.django_db


def last_message(response) -> str:
    """What this response added (earlier, not yet displayed messages queue before it)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def test_replaying_an_old_opt_in_after_opting_out_says_the_current_choice_is_opt_out(
    client, new_user, use_variant
):
    use_variant("two_buttons")
    client.force_login(new_user)
    opt_in_form = form_token(client)
    client.post(reverse("consent:decide"), {"form_token": opt_in_form, "decision": "opt_in"})
    first = ConsentRecord.objects.get()
    settings_form = form_token(client, reverse("consent:privacy_settings"))
    client.post(
        reverse("consent:privacy_change"), {"form_token": settings_form, "decision": "opt_out"}
    )

    replay = client.post(
        reverse("consent:decide"), {"form_token": opt_in_form, "decision": "opt_in"}
    )

    assert replay.status_code == 302
    assert ConsentRecord.objects.count() == 2
    assert last_message(replay) == replies.already_recorded(
        recorded_at=first.decided_at, current_choice=Choice.OPT_OUT
    )
    assert str(replies.CURRENT_CHOICE[Choice.OPT_OUT]) in last_message(replay)


def test_a_double_submit_says_the_answer_was_already_recorded(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)
    first = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})

    second = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})

    record = ConsentRecord.objects.get()
    assert last_message(first) == replies.SAVED_OPT_OUT
    assert last_message(second) == replies.already_recorded(
        recorded_at=record.decided_at, current_choice=Choice.OPT_OUT
    )
    assert second["Location"] == first["Location"]


def test_an_htmx_replay_of_a_notice_form_redirects_instead_of_showing_saved(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = form_token(client)
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    replay = client.post(
        reverse("consent:decide"),
        {"form_token": token, "decision": "opt_in"},
        headers={"HX-Request": "true"},
    )

    assert replay.status_code == 200
    assert "HX-Redirect" in replay.headers
    assert "Your choice is saved" not in replay.content.decode()


def test_replaying_a_not_now_after_deciding_says_the_current_choice(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    not_now_form = form_token(client)
    client.post(reverse("consent:defer"), {"form_token": not_now_form})
    deferral = NoticeDeferral.objects.get()
    settings_form = form_token(client, reverse("consent:privacy_settings"))
    client.post(
        reverse("consent:privacy_change"), {"form_token": settings_form, "decision": "opt_out"}
    )

    replay = client.post(reverse("consent:defer"), {"form_token": not_now_form})

    assert replay.status_code == 302
    assert NoticeDeferral.objects.count() == 1
    assert last_message(replay) == replies.already_recorded(
        recorded_at=deferral.deferred_at, current_choice=Choice.OPT_OUT
    )


def test_replaying_a_not_now_before_deciding_says_nothing_is_decided_yet(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    not_now_form = form_token(client)
    client.post(reverse("consent:defer"), {"form_token": not_now_form})

    replay = client.post(reverse("consent:defer"), {"form_token": not_now_form})

    assert NoticeDeferral.objects.count() == 1
    assert last_message(replay) == replies.already_recorded(
        recorded_at=NoticeDeferral.objects.get().deferred_at, current_choice=None
    )
