"""Fixtures shared by every test package."""

import pytest

from tests.factories import PASSWORD, UserFactory

# --- Accounts and conversations UI ----------------------------------------------------------


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(email="me@example.com", display_name="Me")


@pytest.fixture
def other_user(db):
    return UserFactory(email="someone.else@example.com", display_name="Someone else")


@pytest.fixture
def client_logged_in(client, user):
    """The test client, logged in as ``user``."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
