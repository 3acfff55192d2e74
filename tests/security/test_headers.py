"""Response headers: a strict Content-Security-Policy everywhere, and the consent and
settings pages cannot be framed (clickjacking a consent button is a classic dark pattern)."""

import pytest
from django.urls import reverse

from .conftest import DESIGNS

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_pages_carry_a_csp_without_unsafe_inline_or_eval(client):
    response = client.get(reverse("accounts:login"))

    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header


def test_csp_allows_scripts_styles_and_images_from_our_own_origin_only(client):
    policy = directives(client.get(reverse("accounts:login")))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.parametrize("design", DESIGNS)
def test_decision_screen_cannot_be_framed(client, undecided_user, use_design, design):
    use_design(design)
    client.force_login(undecided_user)

    response = client.get(reverse("consent:decide"))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response)["frame-ancestors"] == ["'none'"]


def test_privacy_settings_cannot_be_framed(client, existing_user):
    client.force_login(existing_user)

    response = client.get(reverse("consent:privacy_settings"))

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response)["frame-ancestors"] == ["'none'"]


def test_htmx_fragments_carry_the_csp_too(client, undecided_user):
    client.force_login(undecided_user)

    response = client.get(reverse("consent:decide"), headers={"HX-Request": "true"})

    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_session_cookie_is_httponly_and_samesite(client, undecided_user):
    response = client.post(
        reverse("accounts:login"),
        {"username": undecided_user.email, "password": "correct-horse-battery"},
    )

    session = response.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_csrf_cookie_is_samesite(client):
    # Not HttpOnly on purpose (Django's default): htmx sends the token from the page's
    # hx-headers, and a script that can read the page can read the token there anyway.
    csrf = client.get(reverse("accounts:login")).cookies["csrftoken"]

    assert csrf["samesite"] == "Lax"
