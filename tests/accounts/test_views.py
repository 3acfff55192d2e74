import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.errors import INVALID_LOGIN
from accounts.views import LOGGED_OUT

pytestmark = pytest.mark.django_db

User = get_user_model()

NEW_PASSWORD = "a-much-longer-new-passphrase"


def login(client, email: str, password: str):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_login_with_email_and_password_logs_in(client, user, password):
    response = login(client, "ME@example.com", password)

    assert response.status_code == 302
    assert response.url == reverse("conversations:list")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_a_wrong_password_says_so_and_does_not_log_in(client, user):
    response = login(client, user.email, "wrong-password")

    assert response.status_code == 200
    assert str(INVALID_LOGIN) in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sixth_attempt_after_five_failed_logins_is_locked_out_even_with_the_right_password(
    client, user, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.email, "wrong-password")

    response = login(client, user.email, password)

    assert response.status_code == 429
    html = response.content.decode()
    assert "try again in 15 minutes" in html
    assert "Your account is safe" in html
    assert "_auth_user_id" not in client.session


def test_login_page_links_to_password_reset(client):
    response = client.get(reverse("accounts:login"))

    assert f'href="{reverse("accounts:password_reset")}"' in response.content.decode()
    assert "Forgot your password?" in response.content.decode()


def test_logout_by_get_is_not_allowed(client_logged_in, user):
    response = client_logged_in.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert client_logged_in.session["_auth_user_id"] == str(user.pk)


def test_logout_by_post_logs_out_and_says_so(client_logged_in):
    response = client_logged_in.post(reverse("accounts:logout"), follow=True)

    assert response.redirect_chain[0] == (reverse("accounts:login"), 302)
    assert "_auth_user_id" not in client_logged_in.session
    assert str(LOGGED_OUT) in response.content.decode()


def test_password_change_needs_login(client):
    response = client.get(reverse("accounts:password_change"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_password_change_sets_the_new_password_and_keeps_the_session(
    client_logged_in, user, password
):
    response = client_logged_in.post(
        reverse("accounts:password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client_logged_in.get(reverse("accounts:password_change_done")).status_code == 200


def test_password_change_with_a_wrong_old_password_changes_nothing(
    client_logged_in, user, password
):
    response = client_logged_in.post(
        reverse("accounts:password_change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert 'id="id_old_password_error"' in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(password)
