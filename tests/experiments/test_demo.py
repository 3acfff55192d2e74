"""The experiment demo: real assignment, consistent rows, verifiable chains, idempotent."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRecord, UserConsentState
from consent.services import consent_chains_verify
from experiments.demo import DEMO_KEY, NO_POLICY, seed_experiment_demo
from experiments.hashing import assign_arm
from experiments.models import Assignment, Experiment, Exposure
from tests.consent.factories import PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    PolicyFactory(effective_at=timezone.now() - timedelta(days=20))
    return seed_experiment_demo(users=240)


def test_demo_is_a_running_us_only_experiment_over_the_three_designs(demo):
    assert demo.status == "running"
    assert demo.countries == ["US"]
    assert sorted(demo.arms.values_list("variant__key", flat=True)) == [
        "accept_toggle_off",
        "accept_toggle_on",
        "two_buttons",
    ]


def test_demo_assignments_are_the_growthbook_ones(demo):
    phase = demo.phases.get()
    arms = list(demo.arms.order_by("position"))
    weights = [phase.weight_of(a.pk) for a in arms]

    for assignment in Assignment.objects.filter(experiment=demo)[:50]:
        index = assign_arm(
            seed=phase.seed, user_key=str(assignment.user_id), weights=weights, coverage=1.0
        )
        assert assignment.arm_id == arms[index].pk


def test_every_demo_user_is_exposed_once_and_decisions_follow_exposure(demo):
    assert Exposure.objects.filter(experiment=demo).count() == 240
    assert Assignment.objects.filter(experiment=demo).count() == 240
    for record in ConsentRecord.objects.filter(
        surface="first_login", user__exposure__experiment=demo
    )[:50]:
        exposure = Exposure.objects.get(user=record.user, experiment=demo)
        assert record.decided_at >= exposure.exposed_at
        assert record.arm_id == exposure.arm_id


def test_demo_chains_verify_and_states_match_the_latest_record(demo):
    assert list(consent_chains_verify()) == []
    for state in UserConsentState.objects.select_related("latest_record"):
        assert state.choice == state.latest_record.choice
        assert not ConsentRecord.objects.filter(
            user=state.user, decided_at__gt=state.decided_at
        ).exists()


def test_demo_includes_reversals_within_a_week(demo):
    reversals = ConsentRecord.objects.filter(
        surface="settings", choice="opt_out", previous__choice="opt_in"
    )

    assert reversals.exists()
    for record in reversals:
        assert record.decided_at - record.previous.decided_at <= timedelta(days=7)


def test_seeding_twice_changes_nothing(demo):
    records = ConsentRecord.objects.count()

    again = seed_experiment_demo(users=240)

    assert again == demo
    assert Experiment.objects.filter(key=DEMO_KEY).count() == 1
    assert ConsentRecord.objects.count() == records


def test_demo_needs_a_policy(db):
    with pytest.raises(ValueError, match=re.escape(NO_POLICY)):
        seed_experiment_demo(users=10)


def test_demo_dashboard_renders(client, demo, analyst):
    client.force_login(analyst)

    response = client.get(reverse("experiments:dashboard", args=[DEMO_KEY]))

    assert response.status_code == 200
    assert 'data-arm="accept_toggle_on"' in response.content.decode()
