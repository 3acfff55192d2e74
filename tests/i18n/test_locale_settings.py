"""Language and time zone: chosen at sign-up and in account settings, used on every page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import errors
from accounts.models import User
from accounts.tokens import signup_token_make
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def signup_link(email: str) -> str:
    return reverse("accounts:signup_complete", args=[signup_token_make(email=email)])


def account_data(**overrides) -> dict:
    data = {"display_name": "Erika", "password1": PASSWORD, "password2": PASSWORD}
    return data | overrides


def test_signup_saves_the_chosen_language_and_time_zone(client):
    link = signup_link("erika@example.com")

    client.post(link, account_data(language="de", time_zone="Europe/Berlin"))

    user = User.objects.get()
    assert (user.language, user.time_zone) == ("de", "Europe/Berlin")


def test_signup_offers_the_language_the_page_is_read_in(client):
    page = client.get(signup_link("yuki@example.com"), HTTP_ACCEPT_LANGUAGE="ja")

    assert re.search(r'<option value="ja"[^>]* selected', page.content.decode())


def test_signup_marks_the_time_zone_list_for_detection_with_the_server_default(client):
    html = client.get(signup_link("yuki@example.com")).content.decode()

    assert 'data-detect-time-zone="UTC"' in html
    assert re.search(r'<option value="UTC"[^>]* selected', html)


def test_signup_refuses_an_unknown_time_zone_and_creates_nothing(client):
    response = client.post(
        signup_link("erika@example.com"), account_data(language="de", time_zone="Mars/Olympus")
    )

    assert response.status_code == 200
    assert not User.objects.exists()
    assert str(errors.TIME_ZONE_UNKNOWN) in response.content.decode().replace("&#x27;", "'")


def test_signup_refuses_an_unknown_language_and_creates_nothing(client):
    response = client.post(signup_link("erika@example.com"), account_data(language="xx"))

    assert not User.objects.exists()
    assert str(errors.LANGUAGE_UNKNOWN) in response.content.decode()


def test_signup_without_language_or_zone_leaves_the_language_unchosen(client):
    client.post(signup_link("erika@example.com"), account_data())

    user = User.objects.get()
    assert (user.language, user.time_zone) == ("", "UTC")


def test_settings_change_language_and_time_zone(client):
    user = UserFactory(language="en")
    client.force_login(user, backend="consent.backends.ConsentStandingBackend")

    response = client.post(
        reverse("accounts:settings"), {"language": "ja", "time_zone": "Asia/Tokyo"}, follow=True
    )

    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("ja", "Asia/Tokyo")
    assert '<html lang="ja"' in response.content.decode()


def test_settings_refuse_a_path_as_time_zone_and_change_nothing(client):
    user = UserFactory(language="en", time_zone="Europe/Paris")
    client.force_login(user, backend="consent.backends.ConsentStandingBackend")

    response = client.post(
        reverse("accounts:settings"), {"language": "de", "time_zone": "../../etc/passwd"}
    )

    user.refresh_from_db()
    assert response.status_code == 200
    assert (user.language, user.time_zone) == ("en", "Europe/Paris")


def test_pages_show_times_in_the_persons_zone_with_the_zone_named(client):
    deadline = timezone.now().replace(microsecond=0) + timedelta(days=10)
    PolicyFactory(effective_at=timezone.now() - timedelta(days=30), decision_deadline=deadline)
    user = UserFactory(
        date_joined=timezone.now() - timedelta(days=60), language="en", time_zone="Asia/Tokyo"
    )
    client.force_login(user, backend="consent.backends.ConsentStandingBackend")

    html = client.get(reverse("consent:privacy_settings")).content.decode()

    local = timezone.localtime(deadline, timezone.get_fixed_timezone(9 * 60))
    assert f"{local:%H:%M} JST" in html


def test_a_persons_zone_does_not_leak_into_the_next_request(client):
    tokyo = UserFactory(time_zone="Asia/Tokyo")
    client.force_login(tokyo, backend="consent.backends.ConsentStandingBackend")
    client.get(reverse("consent:privacy_settings"))

    assert timezone.get_current_timezone_name() == "UTC"
