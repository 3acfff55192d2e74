"""Every design fits every screen (issue 13): at phone and laptop size the decision controls
are in view the moment a consent surface opens, and the switch says "On" or "Off" in words."""

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import ConsentRecord, JurisdictionGroup, ModalVariant, Policy
from consent.services import variant_make_default

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every seeded design (tests/browser/conftest.py seeds exactly these), so a design added to
# the seed is measured here without anyone remembering to list it.
SEEDED = importlib.import_module("consent.migrations.0004_seed_modal_variants").VARIANTS
DESIGNS = [v["key"] for v in SEEDED]
SWITCH_DESIGNS = [v["key"] for v in SEEDED if v["layout"] == "accept_with_toggle"]
SIZES = {"390": (390, 844), "1280": (1280, 800)}
DIALOG_SURFACES = ["first_login", "existing_notice", "deadline_gate"]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
FOCUSABLE = "a[href], button, input:not([type=hidden]), summary"


def make_policy(*, deadline_passed: bool) -> Policy:
    now = timezone.now()
    return Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=40 if deadline_passed else 1),
        decision_deadline=now - timedelta(days=1) if deadline_passed else now + timedelta(days=20),
    )


def open_surface(page, live_server, login, django_user_model, *, surface: str, design: str):
    """Bring a US user (a failing design may be shown there) to the surface; return its dialog."""
    make_policy(deadline_passed=surface == "deadline_gate")
    variant_make_default(
        ModalVariant.objects.get(key=design), jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD]
    )
    joined = timezone.now() - (timedelta(0) if surface == "first_login" else timedelta(days=400))
    user = django_user_model.objects.create_user(
        "fit@example.com", "correct-horse-battery", date_joined=joined, country="US"
    )
    login(user)
    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    return dialog


def set_size(page, size: str) -> None:
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})


def assert_in_view(page, control) -> None:
    """The whole control is inside the viewport and nothing covers it."""
    expect(control).to_be_visible()
    box = control.bounding_box()
    view = page.viewport_size
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= view["width"], (box, view)
    assert box["y"] + box["height"] <= view["height"], (box, view)
    covered = control.evaluate(
        """el => { const r = el.getClientRects()[0];  // a wrapped link's first line
                   const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                   return !(top === el || el.contains(top)); }"""
    )
    assert not covered, "something is drawn over the control"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("surface", DIALOG_SURFACES)
@pytest.mark.parametrize("design", DESIGNS)
def test_decision_controls_are_in_view_when_the_dialog_opens(
    page, live_server, login, django_user_model, axe_violations, design, surface, size
):
    set_size(page, size)

    dialog = open_surface(
        page, live_server, login, django_user_model, surface=surface, design=design
    )

    decisions = dialog.locator("button[name=decision]")
    assert decisions.count() >= 2 if surface == "existing_notice" else decisions.count() >= 1
    # Every answer, "Not now", and on a blocking screen the way out ("Log out").
    for button in dialog.locator("button[type=submit]").all():
        assert_in_view(page, button)
    # Accepting must never happen with the switch out of sight.
    for switch in dialog.get_by_role("switch").all():
        assert_in_view(page, switch)
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"fit-{design}-{surface}-{size}.png")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("design", SWITCH_DESIGNS)
def test_switch_says_its_state_in_words_and_space_changes_it(
    page, live_server, login, django_user_model, design, size
):
    set_size(page, size)
    dialog = open_surface(
        page, live_server, login, django_user_model, surface="first_login", design=design
    )
    switch = dialog.get_by_role("switch")
    state = dialog.locator("[data-switch-state]")
    starts_on = ModalVariant.objects.get(key=design).toggle_default

    expect(state).to_have_text("On" if starts_on else "Off", use_inner_text=True)
    switch.focus()
    page.keyboard.press("Space")

    expect(switch).to_be_checked(checked=not starts_on)
    expect(state).to_have_text("Off" if starts_on else "On", use_inner_text=True)
    page.keyboard.press("Space")
    expect(state).to_have_text("On" if starts_on else "Off", use_inner_text=True)


def test_focus_on_the_switch_changes_only_its_ring_never_its_on_off_look(
    page, live_server, login, django_user_model
):
    dialog = open_surface(
        page,
        live_server,
        login,
        django_user_model,
        surface="first_login",
        design="accept_toggle_off",
    )
    page.emulate_media(reduced_motion="reduce")  # no transition: read the settled colours
    switch = dialog.get_by_role("switch")
    # Track fill, knob (a background gradient: colour and position), border, and any glow
    # hugging the track (the site-wide focus halo read as a half-lit track).
    look = """el => { const s = getComputedStyle(el);
        return [s.backgroundColor, s.backgroundImage, s.backgroundPosition, s.borderColor,
                s.boxShadow]; }"""
    resting_off = switch.evaluate(look)
    page.keyboard.press("Tab")
    while not switch.evaluate("el => el === document.activeElement"):
        page.keyboard.press("Tab")

    assert switch.evaluate("el => el.matches(':focus-visible')")
    focused_off = switch.evaluate(look)
    shoot_around(page, dialog.locator(".switch-row"), "fit-switch-focused-off.png")
    page.keyboard.press("Space")
    focused_on = switch.evaluate(look)
    shoot_around(page, dialog.locator(".switch-row"), "fit-switch-focused-on.png")

    assert focused_off == resting_off
    assert focused_off[0] != focused_on[0]
    ring = switch.evaluate("el => getComputedStyle(el).outlineColor")
    assert ring not in (focused_on[0], focused_off[0])


def shoot_around(page, locator, name: str, margin: int = 10) -> None:
    box = locator.bounding_box()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=SCREENSHOTS / name,
        clip={
            "x": max(box["x"] - margin, 0),
            "y": max(box["y"] - margin, 0),
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        },
    )


def test_switch_words_are_right_with_javascript_off(browser, live_server, django_user_model):
    make_policy(deadline_passed=False)
    variant_make_default(
        ModalVariant.objects.get(key="accept_toggle_on"),
        jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD],
    )
    user = django_user_model.objects.create_user(
        "nojs@example.com", "correct-horse-battery", country="US"
    )
    client = Client()
    client.force_login(user)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/conversations/")
    state = page.locator("[data-switch-state]")

    expect(state).to_have_text("On", use_inner_text=True)
    # Without JavaScript the dialog sits in the page, and the decision sticks to the window.
    assert_in_view(page, page.get_by_role("button", name="Accept"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "fit-accept_toggle_on-first_login-390-no-js.png")
    page.get_by_role("switch").click()
    expect(state).to_have_text("Off", use_inner_text=True)
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_privacy_settings_change_buttons_are_in_view(
    page, live_server, login, django_user_model, axe_violations, size
):
    set_size(page, size)
    dialog = open_surface(
        page, live_server, login, django_user_model, surface="existing_notice", design="two_buttons"
    )
    dialog.get_by_role("button", name="Not now").click()
    expect(dialog).to_be_hidden()

    page.goto(f"{live_server.url}/settings/privacy/")
    for name in ["Allow", "Don't allow"]:
        assert_in_view(page, page.get_by_role("button", name=name, exact=True))
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"fit-settings-undecided-{size}.png")
    page.get_by_role("button", name="Allow", exact=True).click()

    assert_in_view(page, page.get_by_role("button", name="Turn off training use"))
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"fit-settings-change-{size}.png")


@pytest.mark.parametrize("size", SIZES)
def test_not_found_page_offers_a_way_back_in_view(
    page, live_server, login, django_user_model, axe_violations, size
):
    set_size(page, size)
    login(django_user_model.objects.create_user("lost@example.com", "correct-horse-battery"))

    response = page.goto(f"{live_server.url}/no-such-page/")

    assert response.status == 404
    assert_in_view(page, page.get_by_role("link", name="Go to the start page"))
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"fit-404-{size}.png")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("design", DESIGNS)
def test_tabbing_through_the_dialog_never_hides_focus_behind_the_sticky_decision(
    page, live_server, login, django_user_model, design, size
):
    set_size(page, size)
    dialog = open_surface(
        page, live_server, login, django_user_model, surface="existing_notice", design=design
    )
    stops = dialog.evaluate(f"d => d.querySelectorAll({FOCUSABLE!r}).length")

    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        assert dialog.evaluate("d => d.contains(document.activeElement)")
        assert_in_view(page, focused)


def test_the_way_out_of_a_blocking_dialog_logs_out_and_records_nothing(
    page, live_server, login, django_user_model
):
    set_size(page, "390")
    dialog = open_surface(
        page,
        live_server,
        login,
        django_user_model,
        surface="first_login",
        design="accept_toggle_on",
    )

    dialog.get_by_role("button", name="Not ready to decide? Log out").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    page.goto(f"{live_server.url}/conversations/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert not ConsentRecord.objects.exists()
