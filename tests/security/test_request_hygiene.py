"""Malformed requests get a 4xx, never a 500 (found by tests/test_fuzz_forms.py)."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

from config.middleware import NON_UTF8_FORM
from tests.consent.conftest import form_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "UTF8"])
def test_url_encoded_post_in_another_charset_is_a_400_not_a_500(charset):
    # Any visitor can hold a CSRF cookie; before the fix this request raised in the CSRF
    # check and again in Django's 400 and 500 views.
    client = Client(enforce_csrf_checks=True, raise_request_exception=True)
    client.cookies["csrftoken"] = get_random_string(32)

    response = client.generic(
        "POST",
        reverse("accounts:login"),
        b"username=a&password=b",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )

    assert response.status_code == 400
    assert response.content.decode() == NON_UTF8_FORM


@pytest.mark.parametrize("charset", ["", "; charset=utf-8", "; charset=UTF-8", "; charset=no-such"])
def test_url_encoded_post_in_utf8_or_without_a_charset_reaches_the_view(client, charset):
    response = client.generic(
        "POST",
        reverse("accounts:login"),
        b"username=a%40example.com&password=b",
        content_type=f"application/x-www-form-urlencoded{charset}",
    )

    assert response.status_code == 200  # the login form, with its error


def test_an_over_long_login_is_a_form_error_and_never_reaches_the_lockout_table(client):
    from axes.models import AccessAttempt

    response = client.post(
        reverse("accounts:login"), {"username": "x" * 2001 + "@example.com", "password": "pw"}
    )

    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("next_url", ["0", "home", "conversations:list", "javascript:alert(1)"])
def test_a_next_that_is_not_a_path_on_this_site_falls_back_to_the_chat(
    client, existing_user, next_url
):
    client.force_login(existing_user)
    token = form_token(client)

    response = client.post(reverse("consent:defer"), {"form_token": token, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("conversations:list")
