"""Choosing default designs per jurisdiction group from admin, with the lint verdict shown first."""

import pytest
from django.urls import reverse

from consent.models import DesignDefault, JurisdictionGroup, ModalVariant
from consent.selectors import default_variant

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:consent_modalvariant_changelist"
EU, REST = JurisdictionGroup.EU_EEA_UK, JurisdictionGroup.REST_OF_WORLD


def make_default(admin_client, *keys, action="make_default"):
    ids = ModalVariant.objects.filter(key__in=keys).values_list("pk", flat=True)
    return admin_client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [str(pk) for pk in ids]},
        follow=True,
    )


def defaults() -> dict[str, str]:
    return dict(DesignDefault.objects.values_list("jurisdiction_group", "variant__key"))


def passing_copy_of_two_buttons() -> ModalVariant:
    design = ModalVariant.objects.get(key="two_buttons")
    design.pk, design.key, design.name = None, "two_buttons_calm", "Two calm buttons"
    design.save()
    return design


def test_make_default_moves_every_groups_default_and_the_pop_up_follows_at_once(admin_client):
    passing_copy_of_two_buttons()
    assert default_variant("first_login", group=REST).key == "two_buttons"  # warms the memo

    response = make_default(admin_client, "two_buttons_calm")

    assert "is now shown everywhere" in response.content.decode()
    assert defaults() == {EU: "two_buttons_calm", REST: "two_buttons_calm"}
    assert default_variant("first_login", group=EU).key == "two_buttons_calm"
    assert default_variant("first_login", group=REST).key == "two_buttons_calm"


def test_making_a_failing_design_the_default_everywhere_is_refused_with_its_rules(admin_client):
    before = defaults()

    response = make_default(admin_client, "accept_toggle_on")

    page = response.content.decode()
    assert "cannot be the default for the EU/EEA/UK" in page
    assert "Consent switch on by default" in page
    assert defaults() == before


def test_a_failing_design_may_be_the_rest_of_world_default_only(admin_client):
    response = make_default(admin_client, "accept_toggle_on", action="make_default_rest_of_world")

    assert "is now shown in Rest of world" in response.content.decode()
    assert defaults()[REST] == "accept_toggle_on"
    assert defaults()[EU] == "two_buttons"


def test_make_default_wants_exactly_one_design(admin_client):
    before = defaults()

    response = make_default(admin_client, "accept_toggle_off", "two_buttons")

    assert "Select exactly one design." in response.content.decode()
    assert defaults() == before


def test_the_design_list_shows_the_verdict_and_failing_rules_before_any_action(admin_client):
    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert "Compliance (EU/EEA/UK)" in page
    assert "fails 4 rules" in page
    assert "Consent switch on by default; No refuse button on the first layer" in page
    assert "Rest of world only." in page
    assert "Default for" in page and "EU/EEA/UK, Rest of world" in page
