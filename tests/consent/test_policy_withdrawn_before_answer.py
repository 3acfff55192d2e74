"""A policy withdrawn (postponed) after its form was rendered: the answer records nothing.

Every consent write reads the live policy from the database under the user's lock
(DESIGN §4 rule 4). "Another process" postponing the policy is simulated by an
``update()``, which this process's memo does not hear of, as it would not.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent import errors
from consent.models import ConsentRecord, NoticeDeferral, Policy, UsedFormKey
from consent.services import notice_defer

from .conftest import form_token

pytestmark = pytest.mark.django_db


def postpone_elsewhere(policy: Policy) -> None:
    Policy.objects.filter(pk=policy.pk).update(effective_at=timezone.now() + timedelta(days=7))


def test_a_decision_on_a_policy_postponed_since_the_form_was_shown_is_refused(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = form_token(client)  # this process's memo still holds the policy as in effect
    postpone_elsewhere(policy)

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 409
    assert str(errors.NO_POLICY) in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_a_not_now_on_a_postponed_policy_is_refused_and_hides_nothing(existing_user, policy):
    postpone_elsewhere(policy)

    with pytest.raises(errors.ConsentError) as refused:
        notice_defer(user=existing_user, policy=policy, form_key="f" * 32)

    assert (refused.value.status, refused.value.code) == (409, "no_policy")
    assert not NoticeDeferral.objects.exists()
    assert not UsedFormKey.objects.exists()
