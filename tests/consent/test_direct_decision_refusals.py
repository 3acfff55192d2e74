"""Callers that record a decision without a posted form (the demo seeder, bulk test data,
load benches) get the same answer checks as a form: an unknown choice or surface is
refused before anything is written (DESIGN §4 rule 4)."""

import pytest
from django.utils import timezone

from consent import errors
from consent.errors import ConsentError
from consent.models import ConsentRecord, UserConsentState
from consent.services import consent_decision_record
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def _record(user, policy, **answer):
    return consent_decision_record(
        user=user,
        policy=policy,
        form_key="a" * 32,
        shown_at=timezone.now(),
        **{"choice": "opt_in", "surface": "settings", **answer},
    )


def _assert_nothing_written() -> None:
    assert not ConsentRecord.objects.exists()
    assert not UserConsentState.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize("choice", ["maybe", "accept", "OPT_IN", ""])
def test_a_choice_outside_opt_in_and_opt_out_is_refused(new_user, policy, choice):
    with pytest.raises(ConsentError) as refused:
        _record(new_user, policy, choice=choice)

    assert (refused.value.code, refused.value.status) == ("invalid_choice", 400)
    assert refused.value.message == errors.INVALID_CHOICE
    _assert_nothing_written()


@pytest.mark.parametrize("surface", ["kiosk", "Settings", ""])
def test_a_surface_no_consent_screen_has_is_refused(new_user, policy, surface):
    with pytest.raises(ConsentError) as refused:
        _record(new_user, policy, surface=surface)

    assert (refused.value.code, refused.value.status) == ("form_tampered", 400)
    assert refused.value.message == errors.FORM_TAMPERED
    _assert_nothing_written()


def test_the_same_call_with_a_known_choice_and_surface_is_recorded(new_user, policy):
    decision = _record(new_user, policy)

    assert (decision.record.choice, decision.record.surface) == ("opt_in", "settings")
    assert UserConsentState.objects.get(user=new_user).latest_record == decision.record
