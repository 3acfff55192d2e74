"""The main pages run under the strict Content-Security-Policy without a single violation.

Chromium reports every blocked inline script, style attribute or foreign load as a
``securitypolicyviolation`` event and a console error; both are collected from the
first document of each test on.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import ConsentRecord, JurisdictionGroup, ModalVariant, Policy
from consent.services import variant_make_default
from experiments.services import experiment_launch
from tests.experiments.factories import ArmFactory, ExperimentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESIGNS = ["accept_toggle_on", "accept_toggle_off", "two_buttons"]
PASSWORD = "correct-horse-battery"

REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
                + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def csp_violations(page) -> list[str]:
    """Every CSP violation the page reports, as text; empty when the policy holds."""
    found: list[str] = []
    page.add_init_script(REPORTER)

    def collect(message) -> None:
        if "CSP violation" in message.text or "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", collect)
    return found


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


def use_design(key: str) -> None:
    # Shown to the rest of the world (the users below are in the US): a design failing the
    # EU/EEA/UK lint cannot be the default there.
    variant_make_default(
        ModalVariant.objects.get(key=key), jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD]
    )


def test_the_detector_reports_an_inline_style_the_policy_blocks(page, live_server, csp_violations):
    page.goto(f"{live_server.url}/accounts/login/")

    page.evaluate("() => document.body.setAttribute('style', 'color: red')")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_timeout(200)  # the violation event is queued as a task
    assert any("style-src" in text for text in csp_violations)


def test_login_and_signup_pages_hold_the_policy(
    page, live_server, django_user_model, csp_violations
):
    django_user_model.objects.create_user("chatter@example.com", PASSWORD)

    page.goto(f"{live_server.url}/accounts/signup/")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("chatter@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    assert csp_violations == []


def test_chat_list_and_an_htmx_message_hold_the_policy(
    page, live_server, login, django_user_model, csp_violations
):
    login(django_user_model.objects.create_user("chatter@example.com", PASSWORD))

    page.goto(f"{live_server.url}/conversations/")
    page.get_by_role("textbox", name="Your message").fill("How do tides work?")
    page.get_by_role("button", name="Start conversation").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    page.get_by_role("textbox", name="Your message").fill("And in winter?")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("log", name="Messages").get_by_role("listitem")).to_have_count(4)
    assert csp_violations == []


@pytest.mark.parametrize("design", DESIGNS)
def test_each_decision_screen_holds_the_policy(
    page, live_server, login, django_user_model, design, csp_violations
):
    make_policy()
    use_design(design)
    login(django_user_model.objects.create_user("new@example.com", PASSWORD, country="US"))

    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role(
        "button", name="Accept" if design != "two_buttons" else "Allow", exact=True
    ).click()

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    assert ConsentRecord.objects.count() == 1
    assert csp_violations == []


def test_notice_decided_in_place_with_htmx_holds_the_policy(
    page, live_server, login, django_user_model, csp_violations
):
    make_policy()
    use_design("accept_toggle_on")
    existing = django_user_model.objects.create_user(
        "existing@example.com",
        PASSWORD,
        date_joined=timezone.now() - timedelta(days=400),
        country="US",
    )
    login(existing)

    page.goto(f"{live_server.url}/conversations/")
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("switch").click()
    dialog.get_by_role("button", name="Accept").click()

    expect(page.get_by_role("heading", name="Your choice is saved")).to_be_visible()
    assert ConsentRecord.objects.get().choice == "opt_out"
    assert csp_violations == []


def test_privacy_settings_change_and_receipt_hold_the_policy(
    page, live_server, login, django_user_model, csp_violations
):
    make_policy()
    login(django_user_model.objects.create_user("new@example.com", PASSWORD))
    page.goto(f"{live_server.url}/consent/decide/")
    page.get_by_role("dialog").get_by_role("button", name="Don't allow").click()
    expect(page).to_have_url(re.compile(r"/conversations/$"))

    page.get_by_role("link", name="Privacy settings").click()
    page.get_by_role("button", name="Turn on training use").click()
    page.get_by_role("link", name=re.compile("^Receipt")).first.click()

    expect(page.get_by_role("heading", name="Consent receipt")).to_be_visible()
    assert ConsentRecord.objects.count() == 2
    assert csp_violations == []


def test_experiments_dashboard_holds_the_policy(
    page, live_server, login, django_user_model, csp_violations
):
    make_policy()
    experiment = ExperimentFactory(key="first-login-designs")
    for position, key in enumerate(["two_buttons", "accept_toggle_on"]):
        ArmFactory(
            experiment=experiment,
            variant=ModalVariant.objects.get(key=key),
            is_control=position == 0,
            position=position,
        )
    experiment_launch(experiment=experiment)
    analyst = django_user_model.objects.create_user("analyst@example.com", PASSWORD)
    analyst.user_permissions.add(Permission.objects.get(codename="view_results"))
    login(analyst)

    page.goto(f"{live_server.url}/experiments/")
    page.goto(f"{live_server.url}/experiments/{experiment.key}/")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert csp_violations == []


def test_periodic_task_admin_explains_the_crontab_without_an_inline_script(
    page, live_server, login, django_user_model, csp_violations
):
    from django_celery_beat.models import CrontabSchedule

    nightly = CrontabSchedule.objects.create(minute="0", hour="3")
    login(django_user_model.objects.create_superuser("ops@example.com", PASSWORD))

    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/add/")
    page.select_option("#id_crontab", str(nightly.pk))

    expect(page.locator(".field-crontab .help")).to_contain_text("Runs: At 03:00")
    assert csp_violations == []
