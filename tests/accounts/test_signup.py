"""Sign-up proves the address first and never says whether it already has an account."""

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

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
COMPLETE_PREFIX = "/accounts/signup/"


def start(client, email: str, **extra):
    return client.post(reverse("accounts:signup"), {"email": email}, **extra)


def complete_data(**overrides) -> dict:
    data = {
        "display_name": "New Person",
        "country": "DE",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    return data | overrides


def requested(client, email, capture, **extra):
    """Sign-up step one, with the worker's email sent (the on-commit enqueue runs)."""
    with capture(execute=True):
        return start(client, email, **extra)


def test_signup_page_asks_only_for_the_email_with_its_label(client):
    response = client.get(reverse("accounts:signup"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'for="id_email"' in html and 'id="id_email"' in html
    assert 'autocomplete="email"' in html
    assert "password1" not in html


def test_signup_sends_a_link_and_creates_nothing_yet(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = requested(client, "New.Person@Example.com", django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session
    [message] = mailoutbox
    assert message.to == ["new.person@example.com"]
    assert link_in(message, COMPLETE_PREFIX) in html_part(message)


def test_signup_link_finishes_the_account_and_logs_in(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    requested(client, "New.Person@Example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)

    page = client.get(link)
    response = client.post(link, complete_data())

    assert page.status_code == 200
    assert "new.person@example.com" in page.content.decode()
    assert response.status_code == 302
    assert response.url == reverse("conversations:list")
    user = User.objects.get()
    assert (user.email, user.display_name, user.country) == (
        "new.person@example.com",
        "New Person",
        "DE",
    )
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_for_an_existing_address_answers_exactly_as_for_a_new_one(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    fresh = "fresh@example.com"
    # The request alone (the worker's part runs after the response, on commit).
    with (
        CaptureQueriesContext(connection) as new_queries,
        django_capture_on_commit_callbacks(execute=False) as new_enqueued,
    ):
        new_answer = start(client, fresh)
    with (
        CaptureQueriesContext(connection) as taken_queries,
        django_capture_on_commit_callbacks(execute=False) as taken_enqueued,
    ):
        taken_answer = start(client, user.email.upper())

    assert taken_answer.status_code == new_answer.status_code == 200
    assert page_text(taken_answer).replace(user.email, fresh) == page_text(new_answer)
    assert str(errors.EMAIL_TAKEN) not in taken_answer.content.decode()
    # The same work either way: the same statements, one email enqueued.
    assert statements(taken_queries) == statements(new_queries)
    assert len(taken_enqueued) == len(new_enqueued) == 1
    assert User.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_signup_for_an_existing_address_tells_its_owner_and_sends_no_link(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    requested(client, " ME@Example.com", django_capture_on_commit_callbacks)

    [message] = mailoutbox
    assert message.to == [user.email]
    assert "tried to create a new account" in message.body
    assert reverse("accounts:password_reset") in message.body
    assert "tried to create a new account" in html_part(message)
    assert COMPLETE_PREFIX not in message.body.replace(reverse("accounts:signup"), "")


def test_the_step_two_form_ignores_a_posted_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    requested(client, "mine@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)

    client.post(link, complete_data(email="someone.else@example.com"))

    assert list(User.objects.values_list("email", flat=True)) == ["mine@example.com"]


def test_a_tampered_signup_link_is_refused(client, mailoutbox, django_capture_on_commit_callbacks):
    requested(client, "mine@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)
    token = link.removeprefix(COMPLETE_PREFIX).rstrip("/")
    forged = f"{COMPLETE_PREFIX}{token[:-3]}{'AAA' if token[-3:] != 'AAA' else 'BBB'}/"

    response = client.post(forged, complete_data())

    assert response.status_code == 400
    assert str(errors.LINK_INVALID) in response.content.decode()
    assert not User.objects.exists()


def test_an_expired_signup_link_is_refused(client, mailoutbox, django_capture_on_commit_callbacks):
    requested(client, "mine@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1), tick=False):
        response = client.post(link, complete_data())

    assert response.status_code == 400
    assert str(errors.LINK_INVALID) in response.content.decode()
    assert not User.objects.exists()


def test_a_signup_link_works_until_just_before_it_expires(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    requested(client, "mine@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=-5), tick=False):
        response = client.post(link, complete_data())

    assert response.status_code == 302
    assert User.objects.filter(email="mine@example.com").exists()


def test_a_used_signup_link_cannot_make_a_second_account(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    requested(client, "mine@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)
    client.post(link, complete_data())
    client.logout()

    response = client.post(link, complete_data(password1="another-pass-7781"))

    assert response.status_code == 400
    assert str(errors.SIGNUP_LINK_USED) in response.content.decode()
    assert User.objects.get().check_password(PASSWORD)


def test_signup_step_two_shows_password_errors_beside_the_field(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    requested(client, "mine@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0], COMPLETE_PREFIX)

    response = client.post(link, complete_data(password2="does-not-match"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_password2_error"' in html
    assert 'aria-describedby="id_password2_helptext id_password2_error"' in html
    assert not User.objects.exists()


def test_signup_requests_for_one_address_are_rate_limited(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(5):
        requested(
            client,
            "target@example.com",
            django_capture_on_commit_callbacks,
            REMOTE_ADDR=f"10.0.0.{n}",
        )

    response = requested(
        client, "target@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR="10.0.1.1"
    )

    assert response.status_code == 429
    assert str(errors.TOO_MANY_EMAILS) in response.content.decode()
    assert len(mailoutbox) == 5


def test_signup_requests_from_one_client_are_rate_limited(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(20):
        requested(client, f"person{n}@example.com", django_capture_on_commit_callbacks)

    response = requested(client, "one.more@example.com", django_capture_on_commit_callbacks)

    assert response.status_code == 429
    assert len(mailoutbox) == 20
