"""Fixtures shared by every test package."""

import pytest
from hypothesis import settings as hypothesis_settings

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
    client.force_login(user, backend="consent.backends.ConsentStandingBackend")
    return client


# --- Hypothesis profiles (training lifecycle property test) ----------------------------------
# `pytest --hypothesis-profile=long` runs many more, longer interleavings; tests that bound
# themselves for the normal suite check settings.get_current_profile_name().

hypothesis_settings.register_profile(
    "long", max_examples=500, stateful_step_count=80, deadline=None
)


# --- Per-process memos (config.memo) must not outlive a test's rollback ----------------


@pytest.fixture(autouse=True)
def _fresh_process_memos():
    from django.core.cache import caches

    from config.memo import ProcessMemo

    ProcessMemo.forget_all()
    caches["fragments"].clear()
    yield
    ProcessMemo.forget_all()


# --- The active language is per thread: a request in German leaves German active -------


@pytest.fixture(autouse=True)
def _site_language_between_tests():
    """LocaleMiddleware activates each request's language and nothing deactivates it, so a
    test rendering outside a request (a template, an email) would read the language of
    whichever test's request ran last in this thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
