"""A refused answer on a phone: the reason is the first thing in view, and it has focus, so
nobody taps a button, sees nothing happen, and cannot tell why."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from consent import errors
from consent.models import ConsentRecord, Policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
HEADLINE = "May we use your chats to train our models?"  # two_buttons, the default design


def publish_policy(version: str, *, days_ago: int) -> Policy:
    now = timezone.now()
    return Policy.objects.create(
        version=version,
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=days_ago) - timedelta(seconds=1),
        decision_deadline=now + timedelta(days=20),
    )


@pytest.fixture
def new_user(django_user_model):
    publish_policy("2026-09", days_ago=1)
    return django_user_model.objects.create_user(
        "new@example.com", "correct-horse-battery", country="US"
    )


def open_decision_screen(page, live_server, login, user):
    page.set_viewport_size(PHONE)
    login(user)
    page.goto(f"{live_server.url}/consent/decide/")
    dialog = page.get_by_role("dialog", name=HEADLINE)
    expect(dialog).to_be_visible()
    return dialog


def test_a_form_answered_after_a_new_policy_says_so_first_on_a_phone(
    page, live_server, login, new_user
):
    dialog = open_decision_screen(page, live_server, login, new_user)
    publish_policy("2026-10", days_ago=0)  # while the form is open

    dialog.get_by_role("button", name="Don't allow").click()

    alert = page.get_by_role("alert")
    expect(alert).to_have_text(str(errors.POLICY_SUPERSEDED))
    expect(alert).to_be_in_viewport(ratio=1)  # wholly in view, no scrolling
    expect(alert).to_be_focused()  # read out by a screen reader, where keyboard focus is
    # Above the headline: the sticky answers never cover it.
    headline = page.get_by_role("heading", name=HEADLINE)
    assert alert.bounding_box()["y"] < headline.bounding_box()["y"]
    # The new policy's form, to read and answer; nothing was recorded.
    expect(page.get_by_role("button", name="Don't allow")).to_be_visible()
    assert not ConsentRecord.objects.exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "consent-refused-superseded-390.png"))


def test_an_expired_form_says_so_in_view_on_a_phone(page, live_server, login, new_user, settings):
    dialog = open_decision_screen(page, live_server, login, new_user)
    settings.CONSENT_FORM_MAX_AGE_SECONDS = 0  # the open form is now too old

    dialog.get_by_role("button", name="Don't allow").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(str(errors.FORM_EXPIRED))
    expect(alert).to_be_in_viewport(ratio=1)
    expect(alert).to_be_focused()  # the answer pressed is gone: focus goes to why
    assert not ConsentRecord.objects.exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "consent-refused-expired-390.png"))
