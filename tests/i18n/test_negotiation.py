"""Which language a page speaks: the saved one, else Accept-Language, else the site's."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from consent.models import Choice, Surface
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BACKEND = "consent.backends.ConsentStandingBackend"


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


def signed_in(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def test_without_a_saved_language_accept_language_decides(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5")

    assert html_lang(response) == "ja"
    assert response["Content-Language"] == "ja"


def test_a_regional_accept_language_finds_its_language(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="de-AT")

    assert html_lang(response) == "de"


def test_without_accept_language_the_site_default_is_used(client):
    response = client.get(reverse("accounts:login"))

    assert html_lang(response) == "en"


def test_a_language_the_site_does_not_speak_falls_back_to_the_default(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="pt-BR")

    assert html_lang(response) == "en"


def test_the_saved_language_wins_over_accept_language(client):
    signed_in(client, UserFactory(language="de"))

    response = client.get(reverse("consent:privacy_settings"), HTTP_ACCEPT_LANGUAGE="fr")

    assert html_lang(response) == "de"
    assert response["Content-Language"] == "de"


def test_the_gate_redirect_keeps_the_saved_language(client):
    # A new user (joined after the policy) is sent to the first-login decision.
    PolicyFactory(effective_at=timezone.now() - timezone.timedelta(days=2))
    signed_in(client, UserFactory(language="ja"))

    response = client.get(reverse("conversations:list"), HTTP_ACCEPT_LANGUAGE="en", follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("consent:decide"))
    assert html_lang(response) == "ja"


def test_the_gate_redirect_keeps_the_negotiated_language(client):
    PolicyFactory(effective_at=timezone.now() - timezone.timedelta(days=2))
    signed_in(client, UserFactory())

    response = client.get(reverse("conversations:list"), HTTP_ACCEPT_LANGUAGE="fr", follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("consent:decide"))
    assert html_lang(response) == "fr"


def test_the_switcher_sets_the_language_without_javascript(client):
    response = client.post(
        reverse("accounts:language"), {"language": "es", "next": reverse("accounts:signup")}
    )
    page = client.get(reverse("accounts:signup"), HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup")
    assert html_lang(page) == "es"


def test_the_switcher_saves_a_signed_in_persons_language(client):
    user = UserFactory(language="de")
    signed_in(client, user)

    client.post(reverse("accounts:language"), {"language": "fr", "next": "/"})

    user.refresh_from_db()
    assert user.language == "fr"


def test_the_switcher_refuses_an_unknown_language_and_changes_nothing(client):
    user = UserFactory(language="de")
    signed_in(client, user)

    response = client.post(reverse("accounts:language"), {"language": "xx", "next": "/"})

    user.refresh_from_db()
    assert response.status_code == 302
    assert user.language == "de"
    assert "django_language" not in response.cookies


def test_the_switcher_never_redirects_off_site(client):
    response = client.post(
        reverse("accounts:language"), {"language": "de", "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response.url == "/"


def test_the_switcher_works_on_the_decision_screen_while_gated(client):
    PolicyFactory(effective_at=timezone.now() - timezone.timedelta(days=2))
    user = UserFactory()
    signed_in(client, user)
    decide = reverse("consent:decide")

    response = client.post(reverse("accounts:language"), {"language": "ja", "next": decide})
    page = client.get(decide)

    user.refresh_from_db()
    assert response.status_code == 302 and response.url == decide
    assert user.language == "ja"
    assert html_lang(page) == "ja"


def test_the_decision_screen_offers_the_switcher_inside_the_blocking_dialog(client):
    # The page behind a modal dialog is inert: the layout's switcher cannot be reached there.
    PolicyFactory(effective_at=timezone.now() - timezone.timedelta(days=2))
    signed_in(client, UserFactory())

    html = client.get(reverse("consent:decide")).content.decode()

    dialog = html[html.index("<dialog") : html.index("</dialog>")]
    assert 'name="language"' in dialog


def test_a_record_made_in_german_names_german(client):
    from consent.models import ConsentRecord

    PolicyFactory(effective_at=timezone.now() - timezone.timedelta(days=2))
    user = UserFactory(language="de")
    signed_in(client, user)
    page = client.get(reverse("consent:decide")).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})

    record = ConsentRecord.objects.get(user=user)
    assert record.choice == Choice.OPT_OUT
    assert record.surface == Surface.FIRST_LOGIN
    assert record.locale.startswith("de")
    assert User.objects.get(pk=user.pk).language == "de"
