"""A posted form's arm and design must belong together: the record's arm is what the
experiment's analysis counts, so a design the arm never shows cannot be booked to it."""

import pytest
from django.urls import reverse

from consent import errors as consent_errors
from consent.models import ConsentRecord, ModalVariant, UserConsentState
from consent.services import decision_form_issue
from experiments.models import Assignment
from tests.consent.conftest import form_token

from .conftest import DESIGNS

pytestmark = pytest.mark.django_db


def test_a_form_pairing_the_users_own_arm_with_another_design_is_refused(
    client, running_experiment, us_newcomer, policy
):
    running_experiment()
    user = us_newcomer()
    client.force_login(user)
    form_token(client)  # rendering the screen assigns the user an arm
    arm = Assignment.objects.get(user=user).arm
    other_design = (
        ModalVariant.objects.filter(key__in=DESIGNS).exclude(pk=arm.variant_id).order_by("key")
    ).first()
    # Signed like any form (arm offered to this user, design's copy current): only the
    # pairing is wrong.
    mismatched = decision_form_issue(
        user=user, policy=policy, surface="first_login", variant=other_design, arm=arm
    ).token()
    decision = "accept" if other_design.has_toggle else "opt_in"

    response = client.post(
        reverse("consent:decide"), {"form_token": mismatched, "decision": decision}
    )

    assert response.status_code == 400
    assert str(consent_errors.VARIANT_NOT_OFFERED) in response.content.decode()
    assert not ConsentRecord.objects.filter(user=user).exists()
    assert not UserConsentState.objects.filter(user=user).exists()
