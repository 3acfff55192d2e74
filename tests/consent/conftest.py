import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import JurisdictionGroup, ModalVariant
from consent.services import variant_make_default

from .factories import PolicyFactory

REST_OF_WORLD = JurisdictionGroup.REST_OF_WORLD
TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


@pytest.fixture
def policy(db):
    """A policy in effect since yesterday, with a deadline in 30 days."""
    return PolicyFactory()


@pytest.fixture
def existing_user(db, django_user_model):
    """Joined long before the policy: sees the deferrable notice."""
    return django_user_model.objects.create_user(
        "existing@example.com",
        "correct-horse-battery",
        date_joined=timezone.now() - timedelta(days=400),
        country="US",
    )


@pytest.fixture
def new_user(db, django_user_model, policy):
    """Joined after the policy took effect: must decide at first login."""
    return django_user_model.objects.create_user(
        "new@example.com", "correct-horse-battery", country="US"
    )


@pytest.fixture
def use_variant(db):
    """Make the given design the one the fixtures' users (in the US) see."""

    def use(key: str) -> ModalVariant:
        return variant_make_default(
            ModalVariant.objects.get(key=key), jurisdiction_groups=[REST_OF_WORLD]
        )

    return use


def form_token(client, url: str | None = None) -> str:
    """Render the decision screen and pull out its one-time form token."""
    response = client.get(url or reverse("consent:decide"))
    match = TOKEN_RE.search(response.content.decode())
    assert match, "decision form was not rendered"
    return match.group(1)
