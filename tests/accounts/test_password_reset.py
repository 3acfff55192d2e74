"""Password reset: Django's views, one answer for every address, limited, both email parts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import errors
from tests.accounts.conftest import html_part, link_in, page_text, statements

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-longer-new-passphrase"
CONFIRM_PREFIX = "/accounts/password/reset/"


def ask(client, email: str, **extra):
    return client.post(reverse("accounts:password_reset"), {"email": email}, **extra)


def asked(client, email: str, capture, **extra):
    """A reset request with the worker's email sent (the on-commit enqueue runs)."""
    with capture(execute=True):
        return ask(client, email, **extra)


def test_reset_page_is_open_to_anyone(client):
    response = client.get(reverse("accounts:password_reset"))

    assert response.status_code == 200
    assert 'for="id_email"' in response.content.decode()


def test_reset_page_is_open_to_a_signed_in_user(client_logged_in):
    assert client_logged_in.get(reverse("accounts:password_reset")).status_code == 200


def test_reset_answers_the_same_for_an_address_without_an_account(
    client, user, django_capture_on_commit_callbacks
):
    with (
        CaptureQueriesContext(connection) as known_queries,
        django_capture_on_commit_callbacks(execute=False) as known_enqueued,
    ):
        known = ask(client, user.email)
    with (
        CaptureQueriesContext(connection) as unknown_queries,
        django_capture_on_commit_callbacks(execute=False) as unknown_enqueued,
    ):
        unknown = ask(client, "nobody@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("accounts:password_reset_done")
    # The same work in the request either way; the worker decides whether to send.
    assert statements(known_queries) == statements(unknown_queries)
    assert len(known_enqueued) == len(unknown_enqueued) == 1
    done = client.get(known.url)
    assert "If the address you entered belongs to an account" in done.content.decode()


def test_reset_done_page_is_one_page_for_everyone(client, user):
    first = client.get(reverse("accounts:password_reset_done"))

    assert page_text(first) == page_text(client.get(reverse("accounts:password_reset_done")))


def test_reset_mails_the_account_in_plain_text_and_html(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    asked(client, " ME@Example.COM ", django_capture_on_commit_callbacks)

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "Choose a new password"
    link = link_in(message, CONFIRM_PREFIX)
    assert link in html_part(message)


def test_reset_for_an_unknown_address_sends_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    asked(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert mailoutbox == []


def test_reset_link_sets_a_new_password_once(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    asked(client, user.email, django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], CONFIRM_PREFIX)

    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    again = client.get(link, follow=True)

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert "This link does not work" in again.content.decode()


def test_reset_requests_for_one_address_are_limited_across_clients(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(5):
        asked(client, user.email, django_capture_on_commit_callbacks, REMOTE_ADDR=f"10.0.0.{n}")

    response = asked(
        client, user.email.upper(), django_capture_on_commit_callbacks, REMOTE_ADDR="10.0.9.9"
    )

    assert response.status_code == 429
    assert str(errors.TOO_MANY_EMAILS) in response.content.decode()
    assert len(mailoutbox) == 5


def test_reset_requests_from_one_client_are_limited_across_addresses(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(20):
        asked(client, f"nobody{n}@example.com", django_capture_on_commit_callbacks)

    response = asked(client, user.email, django_capture_on_commit_callbacks)

    assert response.status_code == 429
    assert mailoutbox == []


def test_the_limit_answers_alike_for_addresses_with_and_without_an_account(
    client, user, django_capture_on_commit_callbacks
):
    for _ in range(5):
        ask(client, user.email, REMOTE_ADDR="10.0.0.1")
        ask(client, "nobody@example.com", REMOTE_ADDR="10.0.0.2")

    known = ask(client, user.email, REMOTE_ADDR="10.0.0.3")
    unknown = ask(client, "nobody@example.com", REMOTE_ADDR="10.0.0.3")

    assert known.status_code == unknown.status_code == 429
    assert page_text(known).replace(user.email, "nobody@example.com") == page_text(unknown)
