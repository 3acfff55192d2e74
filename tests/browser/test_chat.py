"""The chat UI in a real browser: htmx enhances it, and it still works with JavaScript off."""

import re

import pytest
from playwright.sync_api import expect

from conversations.models import Conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chatter(django_user_model):
    # No Policy row exists, so the consent gate lets this user straight through.
    return django_user_model.objects.create_user("chatter@example.com", "correct-horse-battery")


def test_sending_a_message_appends_it_in_place_and_clears_the_box(
    page, live_server, login, chatter
):
    login(chatter)
    page.goto(f"{live_server.url}/conversations/")
    page.get_by_role("textbox", name="Your message").fill("How do tides work?")
    page.get_by_role("button", name="Start conversation").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    thread = page.get_by_role("log", name="Messages")
    expect(thread.get_by_role("listitem")).to_have_count(2)
    page.evaluate("() => { window.stillTheSamePage = true; }")

    box = page.get_by_role("textbox", name="Your message")
    box.fill("And in winter?")
    page.get_by_role("button", name="Send").click()

    expect(thread.get_by_role("listitem")).to_have_count(4)
    expect(thread.get_by_role("listitem").nth(2)).to_contain_text("And in winter?")
    expect(thread.get_by_role("listitem").nth(3)).to_contain_text("Demo assistant (offline)")
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    assert page.evaluate("() => window.stillTheSamePage === true"), "the page reloaded"
    assert Conversation.objects.get().messages.count() == 4


def test_an_empty_message_shows_the_error_at_the_box_without_a_reload(
    page, live_server, login, chatter
):
    login(chatter)
    page.goto(f"{live_server.url}/conversations/new/")
    page.get_by_role("textbox", name="Your message").fill("Hello")
    page.get_by_role("button", name="Start conversation").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))

    page.get_by_role("button", name="Send").click()

    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description("Error: Write a message before sending.")
    expect(box).to_be_focused()
    assert Conversation.objects.get().messages.count() == 2


def test_chat_works_with_javascript_off(browser, live_server, chatter):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("textbox", name="Email").fill("chatter@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("textbox", name="Your message").fill("First")
    page.get_by_role("button", name="Start conversation").click()

    page.get_by_role("textbox", name="Your message").fill("Second")
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(re.compile(r"/conversations/\d+/#message-\d+$"))
    expect(page.get_by_role("log", name="Messages").get_by_role("listitem")).to_have_count(4)
    page.get_by_role("link", name="Delete this conversation").click()
    page.get_by_role("button", name="Delete conversation").click()
    expect(page.get_by_role("status")).to_contain_text("Conversation deleted.")
    assert not Conversation.objects.exists()
    context.close()


def test_chat_pages_have_no_axe_violations(page, live_server, login, chatter, axe_violations):
    login(chatter)
    page.goto(f"{live_server.url}/conversations/")
    assert axe_violations(page) == []
    page.get_by_role("textbox", name="Your message").fill("Hello")
    page.get_by_role("button", name="Start conversation").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("textbox", name="Your message")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert axe_violations(page) == []
