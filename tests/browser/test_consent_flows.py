"""The consent surfaces in a real browser, found by role and label as a person would."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from consent.deadlines import deadline_text
from consent.models import ChangeKind, ConsentRecord, JurisdictionGroup, ModalVariant, Policy
from consent.services import variant_make_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESIGNS = ["accept_toggle_on", "accept_toggle_off", "two_buttons"]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
LOCKED_HEADLINE = "Your answer is needed to keep chatting"
DEFERRED = re.compile(r"OK, we'll ask again when you come back after .+ Decide by ")
HEADLINE = {
    "accept_toggle_on": "Updates to our consumer terms and privacy policy",
    "accept_toggle_off": "Updates to our consumer terms and privacy policy",
    "two_buttons": "May we use your chats to train our models?",
}


def make_policy(*, deadline_passed: bool = False) -> Policy:
    now = timezone.now()
    return Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=40 if deadline_passed else 1),
        decision_deadline=now - timedelta(days=1) if deadline_passed else now + timedelta(days=20),
    )


def use_design(key: str) -> None:
    # Shown to the rest of the world (these users are in the US): a design failing the
    # EU/EEA/UK lint cannot be the default there (tests/browser/test_design_gate.py).
    variant_make_default(
        ModalVariant.objects.get(key=key), jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD]
    )


@pytest.fixture
def existing_user(django_user_model):
    return django_user_model.objects.create_user(
        "existing@example.com",
        "correct-horse-battery",
        date_joined=timezone.now() - timedelta(days=400),
        country="US",
    )


@pytest.mark.parametrize("design", DESIGNS)
def test_new_user_decides_then_reaches_the_product(
    page, live_server, login, django_user_model, design, axe_violations
):
    make_policy()
    use_design(design)
    user = django_user_model.objects.create_user(
        "new@example.com", "correct-horse-battery", country="US"
    )
    login(user)

    page.goto(f"{live_server.url}/conversations/")

    dialog = page.get_by_role("dialog", name=HEADLINE[design])
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(r"/consent/decide/"))
    assert axe_violations(page) == []
    page.keyboard.press("Escape")  # a blocking screen cannot be dismissed
    expect(dialog).to_be_visible()
    if design == "two_buttons":
        dialog.get_by_role("button", name="Don't allow").click()
    else:
        dialog.get_by_role("button", name="Accept").click()

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    record = ConsentRecord.objects.get(user=user)
    expected = {
        "accept_toggle_on": "opt_in",
        "accept_toggle_off": "opt_out",
        "two_buttons": "opt_out",
    }
    assert record.choice == expected[design]
    assert record.surface == "first_login"


def test_default_on_toggle_switched_off_is_recorded_as_touched_opt_out(
    page, live_server, login, django_user_model
):
    make_policy()
    use_design("accept_toggle_on")
    user = django_user_model.objects.create_user(
        "new@example.com", "correct-horse-battery", country="US"
    )
    login(user)
    page.goto(f"{live_server.url}/conversations/")

    switch = page.get_by_role("switch", name=re.compile("help improve the model", re.I))
    expect(switch).to_be_checked()
    switch.click()
    page.get_by_text("Learn more").click()
    page.get_by_role("button", name="Accept").click()

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    record = ConsentRecord.objects.get(user=user)
    assert (record.choice, record.toggle_touched, record.learn_more_opened) == (
        "opt_out",
        True,
        True,
    )


@pytest.mark.parametrize("design", DESIGNS)
def test_existing_user_says_not_now_then_decides_later(
    page, live_server, login, existing_user, design, axe_violations
):
    make_policy()
    use_design(design)
    login(existing_user)

    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog", name=HEADLINE[design])
    expect(dialog).to_be_visible()
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Not now").click()
    expect(dialog).to_be_hidden()
    assert not ConsentRecord.objects.exists()

    page.reload()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("link", name="Privacy settings").click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Allow", exact=True).click()

    expect(page.get_by_text(re.compile("Saved: new and reopened chats"))).to_be_visible()
    assert ConsentRecord.objects.get().surface == "settings"


def test_escape_on_the_notice_means_not_now(page, live_server, login, existing_user):
    make_policy()
    use_design("two_buttons")
    login(existing_user)
    page.goto(f"{live_server.url}/conversations/")
    expect(page.get_by_role("dialog")).to_be_visible()

    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_be_hidden()
    assert existing_user.notice_deferrals.count() == 1


@pytest.mark.parametrize("design", DESIGNS)
def test_after_the_deadline_every_url_leads_to_the_gate_and_declining_unlocks(
    page, live_server, login, existing_user, design, axe_violations
):
    make_policy(deadline_passed=True)
    use_design(design)
    login(existing_user)

    for path in ["/", "/conversations/", "/conversations/new/"]:
        page.goto(f"{live_server.url}{path}")
        expect(page).to_have_url(re.compile(r"/consent/decide/"))
    # Privacy settings stay open, read-only, with the way to the decision (consent.gate).
    page.goto(f"{live_server.url}/settings/privacy/")
    page.get_by_role("link", name="Decide now").click()
    expect(page).to_have_url(re.compile(r"/consent/decide/"))
    assert axe_violations(page) == []
    dialog = page.get_by_role("dialog", name=LOCKED_HEADLINE)
    expect(dialog.get_by_role("button", name="Not now")).to_have_count(0)
    if design == "two_buttons":
        dialog.get_by_role("button", name="Don't allow").click()
    else:
        if dialog.get_by_role("switch").is_checked():
            dialog.get_by_role("switch").click()
        dialog.get_by_role("button", name="Accept").click()

    # Back where the person was heading when the gate stopped them.
    expect(page).to_have_url(re.compile(r"/settings/privacy/$"))
    expect(page.get_by_role("heading", name="Privacy settings")).to_be_visible()
    record = ConsentRecord.objects.get()
    assert (record.choice, record.surface) == ("opt_out", "deadline_gate")


def test_settings_change_and_receipt_download(
    page, live_server, login, existing_user, axe_violations
):
    make_policy()
    use_design("two_buttons")
    login(existing_user)
    page.goto(f"{live_server.url}/settings/privacy/")
    page.get_by_role("dialog").get_by_role("button", name="Not now").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    page.get_by_role("button", name="Allow", exact=True).click()
    page.get_by_role("button", name="Turn off training use").click()

    assert list(ConsentRecord.objects.order_by("decided_at").values_list("choice", flat=True)) == [
        "opt_in",
        "opt_out",
    ]
    page.get_by_role("link", name=re.compile("^Receipt")).first.click()
    expect(page.get_by_role("heading", name="Consent receipt")).to_be_visible()
    assert axe_violations(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download receipt (JSON)").click()
    assert download_info.value.suggested_filename.startswith("consent-receipt-")


@pytest.mark.parametrize("design", DESIGNS)
def test_keyboard_only_pass_through_each_design(
    page, live_server, login, django_user_model, design
):
    make_policy()
    use_design(design)
    user = django_user_model.objects.create_user(
        "keys@example.com", "correct-horse-battery", country="US"
    )
    login(user)
    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog", name=HEADLINE[design])
    expect(dialog).to_be_visible()

    # Focus starts inside the dialog and Tab never leaves it.
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        inside = page.evaluate("() => !!document.activeElement.closest('dialog')")
        assert inside, "focus escaped the modal dialog"
        seen.append(
            page.evaluate(
                "() => document.activeElement.textContent.trim() || document.activeElement.getAttribute('role') || document.activeElement.tagName"
            )
        )
    target = "Allow" if design == "two_buttons" else "Accept"
    for _ in range(15):
        if page.evaluate("() => document.activeElement.textContent.trim()") == target:
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    assert ConsentRecord.objects.filter(user=user).count() == 1


# --- The deadline, told plainly (issue 13), at phone width -------------------------------


def test_the_notice_states_the_deadline_first_and_not_now_repeats_it(
    page, live_server, login, existing_user, axe_violations
):
    policy = make_policy()
    use_design("two_buttons")
    login(existing_user)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog", name=HEADLINE["two_buttons"])
    deadline = deadline_text(policy.decision_deadline).date_time
    first_lines = dialog.locator("[data-deadline]")
    expect(first_lines).to_have_text(
        f"Decide by {deadline}. After that you'll need to answer before you can keep chatting."
    )
    expect(first_lines).to_be_in_viewport()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "consent-notice-deadline-390.png"))

    dialog.get_by_role("button", name="Not now").click()

    confirmation = page.locator("[data-deferred]")
    expect(confirmation).to_have_text(DEFERRED)
    expect(confirmation).to_contain_text(f"Decide by {deadline}")
    assert axe_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / "consent-not-now-confirmation-390.png"))


def test_escape_on_a_fresh_notice_gives_the_not_now_confirmation(
    page, live_server, login, existing_user
):
    policy = make_policy()
    use_design("two_buttons")
    login(existing_user)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/conversations/")
    expect(page.get_by_role("dialog")).to_be_visible()

    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_have_count(0)
    confirmation = page.locator("[data-deferred]")
    expect(confirmation).to_have_text(DEFERRED)
    expect(confirmation).to_contain_text(deadline_text(policy.decision_deadline).date_time)


def test_after_the_deadline_the_lockout_says_why_first(
    page, live_server, login, existing_user, axe_violations
):
    policy = make_policy(deadline_passed=True)
    use_design("two_buttons")
    login(existing_user)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/conversations/")

    dialog = page.get_by_role("dialog", name=LOCKED_HEADLINE)
    expect(dialog.locator("[data-deadline]")).to_have_text(
        f"The deadline was {deadline_text(policy.decision_deadline).date}. Either answer unlocks "
        "the product; you can change it any time in privacy settings."
    )
    expect(dialog.locator("[data-deadline]")).to_be_in_viewport()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "consent-lockout-390.png"))


def test_an_editorial_version_causes_no_prompt(page, live_server, login, existing_user):
    policy = make_policy()
    use_design("two_buttons")
    login(existing_user)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/conversations/")
    page.get_by_role("dialog").get_by_role("button", name="Don't allow").click()
    expect(page.get_by_role("heading", name="Your choice is saved")).to_be_visible()

    Policy.objects.create(
        version="2026-09a",
        title=policy.title,
        summary=policy.summary,
        body="Full text, with a typo fixed.",
        effective_at=timezone.now(),
        decision_deadline=timezone.now() + timedelta(days=30),
        change_kind=ChangeKind.EDITORIAL,
    )
    page.goto(f"{live_server.url}/conversations/")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert ConsentRecord.objects.count() == 1
