"""Choosing the default design from admin."""

import pytest
from django.urls import reverse

from consent.models import ModalVariant
from consent.selectors import default_variant

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:consent_modalvariant_changelist"


def make_default(admin_client, *keys):
    ids = ModalVariant.objects.filter(key__in=keys).values_list("pk", flat=True)
    return admin_client.post(
        reverse(CHANGELIST),
        {"action": "make_default", "_selected_action": [str(pk) for pk in ids]},
        follow=True,
    )


def test_make_default_moves_the_default_and_the_pop_up_follows_at_once(admin_client):
    assert default_variant("first_login").key == "two_buttons"  # warms this process's memo

    response = make_default(admin_client, "accept_toggle_off")

    assert "is now shown wherever no experiment picks a design" in response.content.decode()
    assert list(ModalVariant.objects.filter(is_default=True).values_list("key", flat=True)) == [
        "accept_toggle_off"
    ]
    assert default_variant("first_login").key == "accept_toggle_off"


def test_make_default_wants_exactly_one_design(admin_client):
    before = list(ModalVariant.objects.filter(is_default=True).values_list("key", flat=True))

    response = make_default(admin_client, "accept_toggle_off", "accept_toggle_on")

    assert "Select exactly one design." in response.content.decode()
    assert (
        list(ModalVariant.objects.filter(is_default=True).values_list("key", flat=True)) == before
    )
