"""Fixtures for the security tests: a live policy and people at each consent stage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ModalVariant
from consent.services import variant_make_default
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

DESIGNS = ["accept_toggle_on", "accept_toggle_off", "two_buttons"]


@pytest.fixture
def policy(db):
    """In effect since yesterday, deadline in 30 days."""
    return PolicyFactory()


@pytest.fixture
def undecided_user(policy):
    """Joined after the policy: the blocking first-login screen."""
    return UserFactory(email="undecided@example.com")


@pytest.fixture
def existing_user(policy):
    """Joined long before the policy: the deferrable notice."""
    return UserFactory(
        email="existing@example.com", date_joined=timezone.now() - timedelta(days=400)
    )


@pytest.fixture
def use_design(db):
    def use(key: str) -> ModalVariant:
        return variant_make_default(ModalVariant.objects.get(key=key))

    return use
