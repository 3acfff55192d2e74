"""Experiments seen through the real consent screens: exposure on render, the arm on the record."""

from datetime import timedelta

import pytest
from django.urls import reverse

from consent import errors as consent_errors
from consent.models import ConsentRecord
from consent.services import decision_form_issue
from experiments.models import Arm, Assignment, Exposure
from experiments.services import experiment_weights_change
from tests.consent.conftest import form_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_rendering_the_decision_screen_writes_one_exposure_per_phase(
    client, running_experiment, us_newcomer
):
    experiment = running_experiment()
    user = us_newcomer()
    client.force_login(user)

    client.get(reverse("consent:decide"))
    client.get(reverse("consent:decide"))

    exposure = Exposure.objects.get(user=user)
    assignment = Assignment.objects.get(user=user)
    assert exposure.experiment == experiment
    assert exposure.phase == 1
    assert exposure.arm == assignment.arm


def test_a_new_phase_exposes_the_user_again(client, running_experiment, us_newcomer):
    experiment = running_experiment()
    user = us_newcomer()
    client.force_login(user)
    client.get(reverse("consent:decide"))
    arms = list(experiment.arms.order_by("position"))

    experiment_weights_change(experiment=experiment, weights={arms[0].pk: 3.0})
    client.get(reverse("consent:decide"))

    assert list(
        Exposure.objects.filter(user=user).values_list("phase", flat=True).order_by("phase")
    ) == [1, 2]


def test_the_rendered_design_is_the_assigned_arms(client, running_experiment, us_newcomer):
    running_experiment()
    user = us_newcomer()
    client.force_login(user)

    response = client.get(reverse("consent:decide"))

    arm = Assignment.objects.get(user=user).arm
    assert arm.variant.headline in response.content.decode()


def test_the_decision_record_carries_the_assigned_arm(client, running_experiment, us_newcomer):
    running_experiment()
    user = us_newcomer()
    client.force_login(user)
    token = form_token(client)
    arm = Assignment.objects.get(user=user).arm
    decision = "accept" if arm.variant.has_toggle else "opt_in"

    client.post(
        reverse("consent:decide"), {"form_token": token, "decision": decision, "training": "on"}
    )

    record = ConsentRecord.objects.get(user=user)
    assert record.arm == arm
    assert record.variant == arm.variant


def test_decisions_outside_an_experiment_carry_no_arm(client, running_experiment, policy):
    running_experiment(countries=["US"])
    outsider = UserFactory(country="FR", date_joined=policy.effective_at + timedelta(hours=1))
    client.force_login(outsider)
    token = form_token(client)

    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})

    record = ConsentRecord.objects.get(user=outsider)
    assert record.arm is None
    assert not Exposure.objects.filter(user=outsider).exists()


def test_a_forged_arm_for_an_experiment_the_user_is_not_in_is_refused(
    client, running_experiment, policy
):
    experiment = running_experiment()
    outsider = UserFactory(country="FR", date_joined=policy.effective_at + timedelta(hours=1))
    client.force_login(outsider)
    arm = Arm.objects.get(experiment=experiment, variant__key="two_buttons")
    # What someone holding the signing key could post: a well-formed form naming the arm.
    forged = decision_form_issue(
        user=outsider, policy=policy, surface="first_login", variant=arm.variant, arm=arm
    ).token()

    response = client.post(reverse("consent:decide"), {"form_token": forged, "decision": "opt_in"})

    assert response.status_code == 400
    assert str(consent_errors.VARIANT_NOT_OFFERED) in response.content.decode()
    assert not ConsentRecord.objects.filter(user=outsider).exists()


def test_existing_user_notice_on_a_product_page_is_an_exposure(client, running_experiment, policy):
    experiment = running_experiment(audience="existing_users", surface="existing_notice")
    veteran = UserFactory(country="US", date_joined=policy.effective_at - timedelta(days=90))
    client.force_login(veteran)

    response = client.get(reverse("conversations:list"))

    assert response.status_code == 200
    exposure = Exposure.objects.get(user=veteran)
    assert exposure.experiment == experiment
    assert exposure.arm.variant.headline in response.content.decode()
