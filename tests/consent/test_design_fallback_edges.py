"""Edges of the design lint gate (consent.compliance): when no design may be shown to the
EU/EEA/UK none is, and admin cannot switch off the design the EU/EEA/UK is shown."""

import logging

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from consent import errors
from consent.models import DesignDefault, JurisdictionGroup, ModalVariant
from consent.selectors import default_variant
from tests.admin_inlines import NO_TRANSLATIONS

pytestmark = pytest.mark.django_db

EU, REST = JurisdictionGroup.EU_EEA_UK, JurisdictionGroup.REST_OF_WORLD


def design(key: str) -> ModalVariant:
    return ModalVariant.objects.get(key=key)


def change_form_data(variant: ModalVariant, **changes) -> dict:
    data = {k: v for k, v in model_to_dict(variant).items() if k not in ("id", "surfaces")}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    return {**data, **NO_TRANSLATIONS, **changes}


def test_with_only_a_failing_design_offered_the_eu_is_shown_none_and_it_is_logged(caplog):
    # Every passing design switched off and the failing one forced in as the EU default,
    # past the service (a shell, a data migration).
    ModalVariant.objects.exclude(key="accept_toggle_on").update(is_active=False)
    DesignDefault.objects.update_or_create(
        jurisdiction_group=EU,
        defaults={"variant": design("accept_toggle_on"), "set_at": "2026-01-01T00:00Z"},
    )

    with (
        caplog.at_level(logging.WARNING, logger="consent"),
        pytest.raises(ModalVariant.DoesNotExist, match="'first_login'"),
    ):
        default_variant("first_login", group=EU)

    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.variant_id == design("accept_toggle_on").pk
    assert warning.fallback_variant_id is None
    assert default_variant("first_login", group=REST).key == "accept_toggle_on"


def test_the_eu_default_cannot_be_switched_off_in_admin(admin_client):
    variant = design("two_buttons")  # the only seeded design that passes the lint
    url = reverse("admin:consent_modalvariant_change", args=[variant.pk])
    switched_off = {k: v for k, v in change_form_data(variant).items() if k != "is_active"}

    response = admin_client.post(url, switched_off)

    assert response.status_code == 200
    assert errors.DEFAULT_SWITCHED_OFF.format(variant="two_buttons") in (
        response.content.decode().replace("&#x27;", "'")
    )
    variant.refresh_from_db()
    assert variant.is_active
    assert default_variant("first_login", group=EU) == variant


def test_a_design_that_is_not_the_eu_default_may_be_switched_off(admin_client):
    variant = design("accept_toggle_off")
    url = reverse("admin:consent_modalvariant_change", args=[variant.pk])
    switched_off = {k: v for k, v in change_form_data(variant).items() if k != "is_active"}

    response = admin_client.post(url, switched_off)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert not variant.is_active
