"""Sign-up, log-in, password reset and email change in a real browser, found by role and label."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # django-ratelimit's counters live in the default cache


def _link(message, prefix: str) -> str:
    return re.search(rf"https?://\S+{re.escape(prefix)}\S+", message.body).group(0)


def test_signup_by_emailed_link_lands_in_the_product(page, live_server, axe_violations):
    page.goto(f"{live_server.url}/accounts/signup/")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Continue").click()
    email = page.get_by_role("textbox", name="Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Error: Enter your email address.")

    email.fill("someone@example.com")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(_link(mail.outbox[-1], "/accounts/signup/"))
    assert axe_violations(page) == []
    page.get_by_role("combobox", name="Country").select_option("DE")
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_label("Password confirmation").fill("correct-horse-battery")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/conversations/$"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_login_page_and_skip_link(page, live_server, django_user_model, axe_violations):
    django_user_model.objects.create_user("me@example.com", "correct-horse-battery")
    page.goto(f"{live_server.url}/accounts/login/")
    assert axe_violations(page) == []

    page.get_by_role("textbox", name="Email").fill("Me@Example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/conversations/$"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_password_reset_from_the_login_page_on_a_phone(
    page, live_server, django_user_model, axe_violations
):
    django_user_model.objects.create_user("me@example.com", "correct-horse-battery")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "password-reset-390.png", full_page=True)

    page.get_by_role("textbox", name="Email").fill("ME@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(_link(mail.outbox[-1], "/accounts/password/reset/"))
    page.get_by_label("New password", exact=True).fill("a-much-longer-new-passphrase")
    page.get_by_label("New password confirmation").fill("a-much-longer-new-passphrase")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()


def test_email_change_page_on_a_phone(page, live_server, django_user_model, login, axe_violations):
    user = django_user_model.objects.create_user("me@example.com", "correct-horse-battery")
    login(user)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/email/")

    expect(page.get_by_role("heading", name="Change your email")).to_be_visible()
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_role("textbox", name="New email")).to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "email-change-390.png", full_page=True)
