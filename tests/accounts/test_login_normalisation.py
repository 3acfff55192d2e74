"""One account, one spelling, one lockout counter (issue 11: lockout bypass by case)."""

import importlib

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.urls import reverse

from accounts.models import User
from accounts.normalization import email_normalize
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CASE_VARIANTS = [
    "ME@example.com",
    "Me@Example.com",
    "me@EXAMPLE.COM",
    "mE@eXaMpLe.CoM",
    "ME@EXAMPLE.COM",
    " me@example.com",
    "me@example.com ",
    "\tMe@Example.Com\n",
]


def login(client, email: str, password: str):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_no_case_variant_gets_in_after_a_lockout_even_with_the_right_password(
    client, user, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.email, "wrong-password")

    for variant in CASE_VARIANTS:
        response = login(client, variant, password)

        assert response.status_code == 429, variant
        assert "_auth_user_id" not in client.session, variant


def test_failures_in_different_capitalisations_add_up_to_one_lockout(
    client, user, password, settings
):
    for variant in CASE_VARIANTS[: settings.AXES_FAILURE_LIMIT]:
        login(client, variant, "wrong-password")

    response = login(client, CASE_VARIANTS[-1], password)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [user.email]


def test_admin_login_shares_the_lockout_of_every_spelling(client, password, settings):
    staff = UserFactory(email="staff@example.com", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, staff.email, "wrong-password")

    response = client.post(
        reverse("admin:login"), {"username": "STAFF@Example.com", "password": password}
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_in_any_capitalisation_with_spaces_reaches_the_one_account(client, user, password):
    response = login(client, "  Me@EXAMPLE.com ", password)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_created_users_are_stored_stripped_and_lower_cased():
    user = User.objects.create_user(" Mixed.Case@Example.COM ", "correct-horse-battery")

    assert user.email == "mixed.case@example.com"


def test_admin_edit_stores_the_email_normalised(admin_client, user):
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": " Renamed@Example.COM",
            "display_name": user.display_name,
            "country": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    user.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert user.email == "renamed@example.com"


def test_email_normalize_strips_and_lower_cases():
    assert email_normalize("  A.B@Example.ORG\n") == "a.b@example.org"
    assert email_normalize(None) == ""


# --- The data migration that normalises stored emails ---------------------------------------

migration = importlib.import_module("accounts.migrations.0004_normalise_emails")


def _store_raw(user, email: str) -> None:
    # Below the manager: rows as they could be before this migration.
    User.objects.filter(pk=user.pk).update(email=email)


def test_migration_lower_cases_and_strips_existing_emails():
    first, second = UserFactory(), UserFactory()
    _store_raw(first, "First.Person@Example.COM")
    _store_raw(second, " second@example.com ")

    migration.normalise_emails(apps, None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.email, second.email) == ("first.person@example.com", "second@example.com")


def test_migration_stops_on_a_collision_and_changes_nothing():
    kept, clash, other = UserFactory(email="same@example.com"), UserFactory(), UserFactory()
    _store_raw(clash, " Same@Example.com")
    _store_raw(other, "Other@Example.com")

    with pytest.raises(migration.EmailCollision) as raised:
        migration.normalise_emails(apps, None)

    assert f"same@example.com: user ids {kept.pk}, {clash.pk}" in str(raised.value)
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(
        ["same@example.com", " Same@Example.com", "Other@Example.com"]
    )
