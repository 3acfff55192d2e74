"""The API answers from the policy row in the database, never from a process's memo.

Another process publishing a policy cannot clear this process's memo (config.memo); a
service asking right after must still hear the new version (DESIGN §4).
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import Policy
from consent.selectors import current_policy
from tests.consent.factories import PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def publish_elsewhere(policy, clock):
    """Warm this process's memo with ``policy``, then insert a newer policy, in effect at
    once, the way another process's save looks from here: bulk_create sends no signal, so
    nothing in this process clears its memo."""

    def publish() -> Policy:
        assert current_policy() == policy  # loads the memo
        (newer,) = Policy.objects.bulk_create([PolicyFactory.build(effective_at=timezone.now())])
        clock.shift(timedelta(seconds=1))
        assert current_policy() == policy, "the memo should still hold the old policy"
        return newer

    return publish


def test_current_policy_is_the_one_just_published_elsewhere(api, publish_elsewhere):
    newer = publish_elsewhere()

    body = api.get(reverse("api:policy_current")).json()

    assert body["version"] == newer.version


def test_users_consent_is_under_the_policy_just_published_elsewhere(
    api, person, decide, publish_elsewhere
):
    user = person()
    decide.opt_in(user)
    newer = publish_elsewhere()

    body = api.get(reverse("api:user_consent", kwargs={"user_id": user.pk})).json()

    assert (body["policy_version"], body["status"], body["choice"]) == (
        newer.version,
        "undecided",
        None,
    )


def test_training_eligibility_is_withdrawn_by_a_policy_just_published_elsewhere(
    api, person, decide, chat, publish_elsewhere
):
    alice = person()
    decide.opt_in(alice)
    conversation = chat(alice)
    url = reverse(
        "api:conversation_training_eligibility", kwargs={"conversation_id": conversation.pk}
    )
    assert api.get(url).json()["eligible"] is True
    newer = publish_elsewhere()

    body = api.get(url).json()

    assert (body["eligible"], body["reason"], body["policy_version"]) == (
        False,
        "policy_superseded",
        newer.version,
    )
