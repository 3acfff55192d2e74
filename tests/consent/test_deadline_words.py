"""The deadline, told plainly (issue 13): in the notice's first lines, in the "Not now"
confirmation with when we ask again, in privacy settings, and as the lockout's reason."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from consent import replies
from consent.deadlines import deadline_text
from consent.models import ChangeKind, NoticeDeferral

from .conftest import form_token
from .factories import PolicyFactory

pytestmark = pytest.mark.django_db

LOCKED_HEADLINE = "Your answer is needed to keep chatting"


def first_lines(html: str) -> str:
    """The dialog's headline and the paragraph right after it, tags removed."""
    dialog = html[html.index("<dialog") :]
    start = dialog.index("<h2")
    end = dialog.index("</p>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dialog[start:end])).strip()


def test_the_notice_states_the_deadline_in_its_first_lines(client, existing_user, policy):
    client.force_login(existing_user)

    page = client.get(reverse("conversations:list")).content.decode()

    expected = deadline_text(policy.decision_deadline).date_time
    assert f"Decide by {expected}." in first_lines(page)
    assert "After that you'll need to answer before you can keep chatting." in first_lines(page)
    assert expected.endswith(" UTC")  # the site's zone, named


def test_the_notice_under_a_wording_fix_states_the_amended_versions_deadline(
    client, existing_user, policy
):
    fix = PolicyFactory(
        change_kind=ChangeKind.EDITORIAL, decision_deadline=policy.decision_deadline + timedelta(9)
    )
    client.force_login(existing_user)

    page = client.get(reverse("conversations:list")).content.decode()

    assert deadline_text(policy.decision_deadline).date_time in first_lines(page)
    assert deadline_text(fix.decision_deadline).date_time not in page


def test_not_now_says_when_we_ask_again_and_repeats_the_deadline(client, existing_user, policy):
    client.force_login(existing_user)
    token = form_token(client, reverse("conversations:list"))

    response = client.post(reverse("consent:defer"), {"form_token": token}, follow=True)

    hidden_until = NoticeDeferral.objects.get().hidden_until
    expected = replies.deferred(hidden_until=hidden_until, deadline=policy.decision_deadline)
    assert [str(m) for m in response.context["messages"]] == [expected]
    assert deadline_text(hidden_until).date_time in expected
    assert f"Decide by {deadline_text(policy.decision_deadline).date_time}" in expected


def test_not_now_through_htmx_sends_the_same_words_with_the_event(client, existing_user, policy):
    client.force_login(existing_user)
    token = form_token(client, reverse("conversations:list"))

    response = client.post(reverse("consent:defer"), {"form_token": token}, HTTP_HX_REQUEST="true")

    hidden_until = NoticeDeferral.objects.get().hidden_until
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["consentDeferred"]["message"] == replies.deferred(
        hidden_until=hidden_until, deadline=policy.decision_deadline
    )


def test_privacy_settings_show_the_deadline_while_undecided(client, existing_user, policy):
    client.force_login(existing_user)

    page = client.get(reverse("consent:privacy_settings")).content.decode()

    assert "Decide by" in page and f"{policy.decision_deadline:%H:%M}" in page


def test_after_the_deadline_the_gate_says_why_first(client, existing_user, policy):
    with time_machine.travel(policy.decision_deadline + timedelta(minutes=1)):
        client.force_login(existing_user)
        page = client.get(reverse("consent:decide")).content.decode()

    lines = first_lines(page)
    assert lines.startswith(LOCKED_HEADLINE)
    assert (
        f"The deadline was {deadline_text(policy.decision_deadline).date}. Either answer unlocks "
        "the product; you can change it any time in privacy settings."
    ) in lines
    assert 'aria-labelledby="consent-headline-deadline_gate"' in page
