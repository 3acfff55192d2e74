"""Sign-up and log-in pages in a real browser, found by role and label."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signup_with_errors_then_success_lands_in_the_product(page, live_server, axe_violations):
    page.goto(f"{live_server.url}/accounts/signup/")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Create account").click()

    email = page.get_by_role("textbox", name="Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Error: Enter your email address.")
    assert axe_violations(page) == []

    email.fill("someone@example.com")
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

    page.get_by_role("textbox", name="Email").fill("me@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/conversations/$"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
