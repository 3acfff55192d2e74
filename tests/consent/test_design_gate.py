"""No design that fails the compliance lint reaches a person in the EU/EEA/UK, by any path.

Paths: a default (service and admin), new copy for a design in use (admin), an
experiment launched or resumed, and, whatever was configured, rendering.
"""

import logging

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from consent import errors
from consent.compliance import jurisdiction_group
from consent.models import DesignDefault, JurisdictionGroup, ModalVariant
from consent.services import variant_make_default
from experiments.models import Exposure
from experiments.services import experiment_launch, experiment_pause
from tests.admin_inlines import NO_TRANSLATIONS
from tests.experiments.factories import ArmFactory, ExperimentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EU, REST = JurisdictionGroup.EU_EEA_UK, JurisdictionGroup.REST_OF_WORLD
PRE_TICKED_HEADLINE = "Updates to our consumer terms and privacy policy"
TWO_BUTTONS_LABEL = "Don&#x27;t allow"  # as escaped in the page


def design(key: str) -> ModalVariant:
    return ModalVariant.objects.get(key=key)


def decide_page(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("consent:decide")).content.decode()


def force_default(key: str, group: str) -> None:
    """A default written past the service (a bad data migration, a shell): the guard must hold."""
    DesignDefault.objects.update_or_create(
        jurisdiction_group=group,
        defaults={"variant": design(key), "set_at": "2026-01-01T00:00Z"},
    )


@pytest.mark.parametrize(
    ("country", "group"),
    [("DE", EU), ("NO", EU), ("GB", EU), ("de", EU), ("", EU), ("US", REST), ("BR", REST)],
)
def test_jurisdiction_groups_and_no_country_counts_as_protected(country, group):
    assert jurisdiction_group(country) == group


def test_a_failing_design_cannot_become_the_eu_default_and_nothing_changes():
    before = dict(DesignDefault.objects.values_list("jurisdiction_group", "variant_id"))

    with pytest.raises(ValidationError) as refused:
        variant_make_default(design("accept_toggle_on"))

    assert refused.value.code == "pre_ticked_consent"
    assert "cannot be the default for the EU/EEA/UK" in refused.value.messages[0]
    assert dict(DesignDefault.objects.values_list("jurisdiction_group", "variant_id")) == before


def test_an_inactive_design_cannot_become_a_default():
    variant = design("two_buttons")
    ModalVariant.objects.filter(pk=variant.pk).update(is_active=False)
    variant.refresh_from_db()

    with pytest.raises(ValidationError, match="switched off"):
        variant_make_default(variant, jurisdiction_groups=[REST])


def test_an_unknown_group_is_refused():
    with pytest.raises(ValidationError) as refused:
        variant_make_default(design("two_buttons"), jurisdiction_groups=["mars"])

    assert refused.value.messages == [errors.DEFAULT_UNKNOWN_GROUP]


def test_a_german_new_user_sees_the_compliant_default_whatever_the_eu_default_says(policy, caplog):
    force_default("accept_toggle_on", EU)
    user = UserFactory(country="DE")

    with caplog.at_level(logging.WARNING, logger="consent"):
        html = decide_page(user)

    assert PRE_TICKED_HEADLINE not in html
    assert TWO_BUTTONS_LABEL in html
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.jurisdiction_group == EU
    assert warning.variant_id == design("accept_toggle_on").pk
    assert warning.fallback_variant_id == design("two_buttons").pk
    assert user.email not in warning.getMessage()


def test_a_user_without_a_country_is_protected_too(policy):
    force_default("accept_toggle_on", EU)

    html = decide_page(UserFactory(country=""))

    assert PRE_TICKED_HEADLINE not in html


def test_the_rest_of_the_world_sees_its_own_default_even_if_it_fails_the_eu_lint(policy):
    variant_make_default(design("accept_toggle_on"), jurisdiction_groups=[REST])

    html = decide_page(UserFactory(country="US"))

    assert PRE_TICKED_HEADLINE in html


def test_an_arm_whose_copy_was_edited_into_failing_is_not_shown_in_the_eu(policy, caplog):
    # Launched while it passed (no country restriction, so EU users are in the audience);
    # the copy is then changed past the admin check.
    experiment = ExperimentFactory(countries=[], audience="all")
    for position, key in enumerate(["two_buttons", "accept_toggle_off"]):
        ArmFactory(experiment=experiment, variant=design(key), is_control=position == 0)
    ModalVariant.objects.filter(key="accept_toggle_off").update(
        headline="May we use your chats to train our models?"
    )
    experiment_launch(experiment=experiment)
    ModalVariant.objects.filter(key="accept_toggle_off").update(toggle_default=True)
    users = [UserFactory(country="FR") for _ in range(12)]

    with caplog.at_level(logging.WARNING, logger="consent"):
        pages = [decide_page(user) for user in users]

    assert not any('data-default="on"' in html for html in pages)  # no pre-ticked switch
    replaced = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert replaced and {r.variant_id for r in replaced} == {design("accept_toggle_off").pk}
    assert {r.user_id for r in replaced} <= {user.pk for user in users}
    assert not Exposure.objects.filter(arm__variant__key="accept_toggle_off").exists()


def test_an_experiment_with_a_failing_design_cannot_be_resumed_for_an_eu_audience(policy):
    experiment = ExperimentFactory(countries=["DE", "US"], audience="all")
    for position, key in enumerate(["two_buttons", "accept_toggle_off"]):
        ArmFactory(experiment=experiment, variant=design(key), is_control=position == 0)
    ModalVariant.objects.filter(key="accept_toggle_off").update(
        headline="May we use your chats to train our models?"
    )
    experiment_launch(experiment=experiment)
    experiment_pause(experiment=experiment)
    ModalVariant.objects.filter(key="accept_toggle_off").update(toggle_default=True)

    with pytest.raises(ValidationError) as refused:
        experiment_launch(experiment=experiment)

    assert refused.value.code == "pre_ticked_consent"
    experiment.refresh_from_db()
    assert experiment.status == "paused"


def change_form_data(variant: ModalVariant, **changes) -> dict:
    data = {k: v for k, v in model_to_dict(variant).items() if k not in ("id", "surfaces")}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    return {**data, **NO_TRANSLATIONS, **changes}


def test_admin_refuses_copy_that_would_make_the_eu_default_fail(admin_client):
    variant = design("two_buttons")
    url = reverse("admin:consent_modalvariant_change", args=[variant.pk])

    response = admin_client.post(
        url, change_form_data(variant, body="Help us improve.", learn_more="")
    )

    assert response.status_code == 200
    assert "is the default for the EU/EEA/UK" in response.content.decode()
    variant.refresh_from_db()
    assert variant.body != "Help us improve."


def test_admin_saves_copy_that_still_passes(admin_client):
    variant = design("two_buttons")
    url = reverse("admin:consent_modalvariant_change", args=[variant.pk])
    body = variant.body + " You can change this any time in privacy settings."

    response = admin_client.post(url, change_form_data(variant, body=body))

    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.body == body


def test_admin_refuses_copy_that_would_make_a_live_eu_arm_fail(admin_client, policy):
    experiment = ExperimentFactory(countries=["FR"], audience="all")
    calm = design("two_buttons")
    calm.pk, calm.key = None, "two_buttons_calm"
    calm.save()
    for position, variant in enumerate([design("two_buttons"), calm]):
        ArmFactory(experiment=experiment, variant=variant, is_control=position == 0)
    experiment_launch(experiment=experiment)
    url = reverse("admin:consent_modalvariant_change", args=[calm.pk])

    response = admin_client.post(url, change_form_data(calm, accept_emphasis="on"))

    assert response.status_code == 200
    assert "is shown by the live experiment" in response.content.decode()
    calm.refresh_from_db()
    assert calm.accept_emphasis is False


def test_admin_shows_surfaces_as_checkboxes_and_saves_them(admin_client):
    variant = design("accept_toggle_off")
    url = reverse("admin:consent_modalvariant_change", args=[variant.pk])

    page = admin_client.get(url).content.decode()
    response = admin_client.post(
        url, change_form_data(variant, surfaces=["first_login", "deadline_gate"])
    )

    assert 'type="checkbox" name="surfaces" value="existing_notice"' in page
    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.surfaces == ["first_login", "deadline_gate"]
