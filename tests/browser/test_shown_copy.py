"""The receipt and "exactly what was shown", in Chromium at 390 px: the stored screen is
readable, and nothing on it can submit a decision, even a script forcing the form."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import ConsentRecord, JurisdictionGroup, ModalVariant, Policy
from consent.services import variant_make_default

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _decided_in_the_browser(page, live_server, login, django_user_model) -> ConsentRecord:
    now = timezone.now()
    Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=1),
        decision_deadline=now + timedelta(days=20),
    )
    variant_make_default(
        ModalVariant.objects.get(key="accept_toggle_on"),
        jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD],
    )
    user = django_user_model.objects.create_user(
        "shown@example.com", "x-correct-horse", country="US"
    )
    login(user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/conversations/")
    page.get_by_role("dialog").get_by_role("button", name="Accept").click()
    page.wait_for_url("**/conversations/**")
    return ConsentRecord.objects.get(user=user)


def test_the_receipt_links_to_the_screen_shown_which_cannot_submit(
    page, live_server, login, django_user_model
):
    record = _decided_in_the_browser(page, live_server, login, django_user_model)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/consent/receipts/{record.pk}/")
    page.screenshot(path=SCREENSHOTS / "receipt-390.png", full_page=True)
    page.get_by_role("link", name="See the screen as it was shown to you").click()

    expect(page.get_by_role("heading", name="Exactly what was shown")).to_be_visible()
    accept = page.get_by_role("button", name="Accept")
    expect(accept).to_be_disabled()
    expect(page.get_by_role("switch")).to_be_disabled()
    page.screenshot(path=SCREENSHOTS / "shown-copy-390.png", full_page=True)
    # Even a script forcing the form (no action left, and CSP form-action 'none') goes nowhere.
    shown_url = page.url
    page.evaluate("document.querySelector('[data-shown-copy] form').requestSubmit()")
    page.wait_for_timeout(300)
    assert page.url == shown_url
    assert ConsentRecord.objects.filter(user=record.user).count() == 1
