"""A German new user, after an admin tries to make the pre-ticked design the default, meets a
compliant design (issue 13: no failing design reaches a protected user)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import ConsentRecord, DesignDefault, JurisdictionGroup, Policy

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


def make_policy() -> Policy:
    now = timezone.now()
    return Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=1),
        decision_deadline=now + timedelta(days=20),
    )


def make_default_in_admin(page, live_server, key: str, action: str) -> None:
    page.goto(f"{live_server.url}/admin/consent/modalvariant/")
    row = page.get_by_role("row").filter(has_text=key)
    row.get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option(action)
    page.get_by_role("button", name="Go").click()


@pytest.mark.parametrize("size", SIZES)
def test_a_german_new_user_sees_a_compliant_design_after_admin_tries_the_pre_ticked_one(
    page, live_server, login, django_user_model, axe_violations, size
):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    make_policy()
    admin = django_user_model.objects.create_superuser("admin@example.com", "correct-horse-1")
    login(admin)

    # The verdict is on the list before anything is pressed.
    page.goto(f"{live_server.url}/admin/consent/modalvariant/")
    verdict = page.get_by_role("row").filter(has_text="accept_toggle_on")
    expect(verdict).to_contain_text("fails 4 rules")
    expect(verdict).to_contain_text("Consent switch on by default")
    make_default_in_admin(page, live_server, "accept_toggle_on", "make_default")
    expect(page.locator(".messagelist .error")).to_contain_text(
        "cannot be the default for the EU/EEA/UK"
    )
    make_default_in_admin(page, live_server, "accept_toggle_on", "make_default_rest_of_world")
    expect(page.locator(".messagelist")).to_contain_text("is now shown in Rest of world")
    assert DesignDefault.objects.get(
        jurisdiction_group=JurisdictionGroup.EU_EEA_UK
    ).variant.key == ("two_buttons")
    page.context.clear_cookies()

    german = django_user_model.objects.create_user(
        "neu@example.de", "correct-horse-battery", country="DE"
    )
    login(german)
    page.goto(f"{live_server.url}/conversations/")

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("switch")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Don't allow")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"design-gate-de-{size}.png")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Don't allow").click()

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    record = ConsentRecord.objects.get(user=german)
    assert (record.variant.key, record.choice, record.jurisdiction) == (
        "two_buttons",
        "opt_out",
        "DE",
    )
