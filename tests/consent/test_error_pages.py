"""403, 404, 500 and CSRF-failure pages: in the site's look, with a way back; the 500 page
renders with no database at all."""

import pytest
from django.db import connections
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

ERROR_PAGES = ["403.html", "404.html", "500.html", "403_csrf.html"]


@pytest.mark.django_db
def test_an_unknown_address_gets_the_styled_404_with_a_way_back(client):
    response = client.get("/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "We can't find that page" in page
    assert 'href="/static/css/app.css"' in page or "css/app." in page
    assert f'href="{reverse("home")}"' in page


@pytest.mark.django_db
def test_another_users_page_gets_the_styled_403(client, django_user_model, rf):
    from django.views.defaults import permission_denied

    request = rf.get("/somewhere/")
    request.user = django_user_model.objects.create_user("a@example.com", "correct-horse-battery")

    response = permission_denied(request, exception=None)

    assert response.status_code == 403
    assert "You can't open this page" in response.content.decode()


def test_the_500_page_renders_without_touching_the_database(monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("the 500 page touched the database")

    for connection in connections.all():
        monkeypatch.setattr(connection, "cursor", no_database)
        monkeypatch.setattr(connection, "ensure_connection", no_database)

    html = render_to_string("500.html")

    assert "Something went wrong on our side" in html
    assert 'href="/"' in html


def test_a_csrf_failure_explains_itself_with_a_way_back():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})

    page = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in page
    assert 'href="/"' in page


@pytest.mark.parametrize("template", ERROR_PAGES)
def test_every_error_page_has_one_heading_and_the_stylesheet(template, rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    html = render_to_string(
        template, request=request if template in ("403.html", "404.html") else None
    )

    assert html.count("<h1") == 1
    assert "css/app." in html
