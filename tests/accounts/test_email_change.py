"""Email change: only a click on the link sent to the new address changes it."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import errors
from accounts.models import User
from tests.accounts.conftest import html_part, link_in, page_text, statements
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONFIRM_PREFIX = "/accounts/email/confirm/"
NEW = "New.Address@Example.com"


def ask(client, new_email: str, password: str):
    return client.post(
        reverse("accounts:email_change"), {"new_email": new_email, "password": password}
    )


@pytest.fixture
def asked(client_logged_in, password, mailoutbox, django_capture_on_commit_callbacks):
    """Ask for the change and return the emailed confirmation path."""

    def run(new_email: str = NEW) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            ask(client_logged_in, new_email, password)
        return link_in(mailoutbox[-1], CONFIRM_PREFIX)

    return run


def test_email_change_needs_login(client):
    response = client.get(reverse("accounts:email_change"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_asking_mails_a_link_to_the_new_address_and_changes_nothing_yet(
    client_logged_in, user, password, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client_logged_in, NEW, password)

    assert response.status_code == 200
    assert "Check your new email" in response.content.decode()
    [message] = mailoutbox
    assert message.to == ["new.address@example.com"]
    assert link_in(message, CONFIRM_PREFIX) in html_part(message)
    user.refresh_from_db()
    assert user.email == "me@example.com"


def test_a_wrong_password_sends_nothing(
    client_logged_in, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client_logged_in, NEW, "not-my-password")

    assert response.status_code == 200
    assert str(errors.WRONG_PASSWORD) in response.content.decode()
    assert mailoutbox == []


def test_wrong_passwords_on_the_email_form_count_towards_the_login_lockout(
    client_logged_in, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        ask(client_logged_in, NEW, "not-my-password")

    response = ask(client_logged_in, NEW, password)

    assert response.status_code == 429


def test_opening_the_link_shows_the_change_and_only_the_post_applies_it(
    client_logged_in, user, asked, mailoutbox
):
    link = asked()

    page = client_logged_in.get(link)
    user.refresh_from_db()
    assert page.status_code == 200
    assert "new.address@example.com" in page.content.decode()
    assert user.email == "me@example.com"

    response = client_logged_in.post(link, follow=True)

    user.refresh_from_db()
    assert user.email == "new.address@example.com"
    assert errors.EMAIL_CHANGED.format(email=user.email) in response.content.decode()


def test_the_old_address_is_told_after_the_change(
    client_logged_in, asked, mailoutbox, django_capture_on_commit_callbacks
):
    link = asked()

    with django_capture_on_commit_callbacks(execute=True):
        client_logged_in.post(link)

    notice = mailoutbox[-1]
    assert notice.to == ["me@example.com"]
    assert "was changed" in notice.body and "was changed" in html_part(notice)
    assert "new.address@example.com" not in notice.body


def test_a_link_past_its_day_changes_nothing(client_logged_in, user, asked):
    link = asked()

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1), tick=False):
        response = client_logged_in.post(link)

    assert response.status_code == 400
    assert str(errors.LINK_INVALID) in response.content.decode()
    user.refresh_from_db()
    assert user.email == "me@example.com"


def test_a_tampered_link_changes_nothing(client_logged_in, user, asked):
    link = asked()
    token = link.removeprefix(CONFIRM_PREFIX).rstrip("/")
    forged = f"{CONFIRM_PREFIX}{token[:-2]}{'xx' if token[-2:] != 'xx' else 'yy'}/"

    response = client_logged_in.post(forged)

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email == "me@example.com"


def test_a_used_link_cannot_change_the_email_again(client_logged_in, user, asked):
    first = asked("first@example.com")
    second = asked("second@example.com")
    client_logged_in.post(second)

    response = client_logged_in.post(first)

    assert response.status_code == 400
    assert str(errors.LINK_INVALID) in response.content.decode()
    user.refresh_from_db()
    assert user.email == "second@example.com"


def test_a_link_stops_working_after_a_password_change(client_logged_in, user, asked):
    link = asked()
    user.set_password("a-brand-new-passphrase")
    user.save(update_fields=["password"])
    client_logged_in.force_login(user, backend="consent.backends.ConsentStandingBackend")

    response = client_logged_in.post(link)

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email == "me@example.com"


def test_someone_elses_link_changes_neither_account(client, user, other_user, asked):
    link = asked()
    client.force_login(other_user, backend="consent.backends.ConsentStandingBackend")

    response = client.post(link)

    assert response.status_code == 400
    assert str(errors.LINK_OTHER_ACCOUNT) in response.content.decode()
    assert set(User.objects.values_list("email", flat=True)) == {user.email, other_user.email}


def test_a_taken_address_answers_the_requester_exactly_as_a_free_one(
    client_logged_in, password, other_user, django_capture_on_commit_callbacks
):
    free = "free@example.com"
    client_logged_in.get(reverse("accounts:email_change"))  # per-process memos warmed up
    with (
        CaptureQueriesContext(connection) as free_queries,
        django_capture_on_commit_callbacks(execute=False) as free_enqueued,
    ):
        free_answer = ask(client_logged_in, free, password)
    with (
        CaptureQueriesContext(connection) as taken_queries,
        django_capture_on_commit_callbacks(execute=False) as taken_enqueued,
    ):
        taken_answer = ask(client_logged_in, other_user.email.upper(), password)

    assert taken_answer.status_code == free_answer.status_code == 200
    assert page_text(taken_answer).replace(other_user.email, free) == page_text(free_answer)
    assert statements(taken_queries) == statements(free_queries)
    assert len(taken_enqueued) == len(free_enqueued) == 1


def test_a_taken_address_mails_its_owner_and_no_link(
    client_logged_in, user, password, other_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client_logged_in, other_user.email, password)

    [message] = mailoutbox
    assert message.to == [other_user.email]
    assert "already uses" in message.body and "already uses" in html_part(message)
    assert CONFIRM_PREFIX not in message.body
    user.refresh_from_db()
    assert user.email == "me@example.com"


def test_an_address_taken_after_the_link_was_sent_changes_nothing(client_logged_in, user, asked):
    link = asked("wanted@example.com")
    UserFactory(email="wanted@example.com")

    response = client_logged_in.post(link)

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email == "me@example.com"


def test_asking_for_the_current_address_is_refused(client_logged_in, user, password):
    response = ask(client_logged_in, " ME@example.com", password)

    assert str(errors.EMAIL_UNCHANGED) in response.content.decode()
