"""Fixtures for the security tests: a live policy and people at each consent stage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import JurisdictionGroup, ModalVariant
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
    return UserFactory(email="undecided@example.com", country="US")


@pytest.fixture
def existing_user(policy):
    """Joined long before the policy: the deferrable notice."""
    return UserFactory(
        email="existing@example.com",
        date_joined=timezone.now() - timedelta(days=400),
        country="US",
    )


@pytest.fixture
def use_design(db):
    def use(key: str) -> ModalVariant:
        # The users here are in the US: a design failing the EU/EEA/UK lint may reach them.
        return variant_make_default(
            ModalVariant.objects.get(key=key), jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD]
        )

    return use
