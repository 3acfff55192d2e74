"""The chat UI in a real browser: htmx enhances it, and it still works with JavaScript off."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import Choice, Policy
from conversations.models import Conversation
from conversations.services import conversation_start
from tests.factories import settings_decision
from training.models import TrainingUse
from training.services import training_snapshot_export

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


# --- Temporary chats and status lines (DESIGN §4 rule 8) --------------------------------------

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _decide(user, policy, choice):
    return settings_decision(user, policy, choice)


@pytest.fixture
def opted_in_chatter(django_user_model):
    """An existing user who opted in, with one chat from before (when they had opted out)."""
    now = timezone.now()
    policy = Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=40),
        decision_deadline=now + timedelta(days=20),
    )
    user = django_user_model.objects.create_user(
        "temporary@example.com", "correct-horse-battery", date_joined=now - timedelta(days=400)
    )
    _decide(user, policy, Choice.OPT_OUT)
    conversation_start(user=user, text="Recipe ideas for a rainy weekend")
    _decide(user, policy, Choice.OPT_IN)
    return user


@pytest.mark.parametrize(
    "viewport",
    [{"width": 390, "height": 844}, {"width": 1280, "height": 800}],
    ids=lambda v: str(v["width"]),
)
def test_temporary_chat_is_marked_everywhere_and_never_exported(
    page, live_server, login, opted_in_chatter, axe_violations, viewport, tmp_path
):
    width = viewport["width"]
    page.set_viewport_size(viewport)
    login(opted_in_chatter)
    page.goto(f"{live_server.url}/conversations/")

    # A covered chat, then a temporary one, as a person starts them.
    page.get_by_role("textbox", name="Your message").fill("Plan a week of dinners")
    page.get_by_role("button", name="Start conversation").click()
    expect(page.get_by_text("May be used to improve the model")).to_be_visible()
    page.goto(f"{live_server.url}/conversations/")
    page.get_by_role("textbox", name="Your message").fill(
        "Something private about my health that I would rather keep out of any training data"
    )
    switch = page.get_by_role("switch", name="Temporary chat")
    expect(switch).not_to_be_checked()
    expect(switch).to_have_accessible_description(re.compile("Never used to improve the model"))
    switch.check()
    expect(switch).to_be_checked()
    page.get_by_role("button", name="Start conversation").click()

    expect(page).to_have_url(re.compile(r"/conversations/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Temporary")
    expect(
        page.get_by_text("Temporary chat: never used for training, deleted 30 days after")
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"Kept until \d+ \w+ \d{4}"))).to_be_visible()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"chat-temporary-thread-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/conversations/")
    items = page.locator(".conversation-list__item")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("Temporary")
    expect(items.nth(0)).to_contain_text("never used for training")
    expect(items.nth(0).get_by_role("link")).to_have_text(re.compile("…$"))  # cut at a word
    expect(items.nth(1)).to_contain_text("May be used to improve the model")
    expect(items.nth(2)).to_contain_text("Not used for training")
    assert axe_violations(page) == []
    page.screenshot(path=str(SCREENSHOTS / f"chat-list-{width}.png"), full_page=True)

    temporary = Conversation.objects.get(is_temporary=True)
    snapshot = training_snapshot_export(out_path=tmp_path / "snapshot.jsonl")
    used = set(
        TrainingUse.objects.filter(snapshot=snapshot).values_list("conversation_id", flat=True)
    )
    assert used and temporary.pk not in used


@pytest.mark.parametrize(
    "viewport",
    [{"width": 390, "height": 844}, {"width": 1280, "height": 800}],
    ids=lambda v: str(v["width"]),
)
def test_replying_to_an_old_chat_says_so_first_and_updates_its_status_in_place(
    page, live_server, login, opted_in_chatter, axe_violations, viewport
):
    page.set_viewport_size(viewport)
    login(opted_in_chatter)
    page.goto(f"{live_server.url}/conversations/")
    page.get_by_role("link", name="Recipe ideas for a rainy weekend").click()
    status = page.locator("#conversation-status")
    expect(status).to_contain_text("Not used for training")
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_have_accessible_description(
        re.compile(
            "Replying will let this chat be used to improve the model, and keep it for 5 years"
        )
    )
    assert axe_violations(page) == []
    if viewport["width"] == 390:
        page.screenshot(path=str(SCREENSHOTS / "chat-reply-hint-390.png"), full_page=True)
    page.evaluate("() => { window.stillTheSamePage = true; }")

    box.fill("Something with lentils?")
    page.get_by_role("button", name="Send").click()

    expect(status).to_contain_text("May be used to improve the model")
    expect(page.get_by_text("Replying will let this chat")).to_have_count(0)
    assert page.evaluate("() => window.stillTheSamePage === true"), "the page reloaded"
    assert axe_violations(page) == []
