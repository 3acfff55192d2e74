"""A gated user's way from the blocking dialog to their read-only privacy settings, at phone width."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import ModalVariant, Policy
from consent.services import variant_make_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_gated_user_opens_read_only_settings_from_the_dialog_at_phone_width(
    page, live_server, login, django_user_model, axe_violations
):
    now = timezone.now()
    Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=40),
        decision_deadline=now - timedelta(days=1),
    )
    variant_make_default(ModalVariant.objects.get(key="two_buttons"))
    user = django_user_model.objects.create_user(
        "existing@example.com", "correct-horse-battery", date_joined=now - timedelta(days=400)
    )
    page.set_viewport_size({"width": 390, "height": 844})
    login(user)
    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()

    dialog.get_by_role("link", name="Privacy settings").click()

    expect(page.get_by_role("heading", name="Privacy settings", level=1)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Not decided yet")).to_be_visible()
    expect(page.get_by_text("The deadline to decide was")).to_be_visible()
    expect(page.get_by_role("button", name="Allow")).to_have_count(0)
    expect(page.get_by_role("link", name="Download my data")).to_be_visible()
    expect(page.get_by_role("link", name="Delete my account")).to_be_visible()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gated-privacy-settings-390.png"), full_page=True)

    page.get_by_role("link", name="Decide now").click()

    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/consent/decide/?next=%2Fsettings%2Fprivacy%2F")
