"""Who sees which design: GrowthBook assignment, stickiness, phases, coverage and audience."""

from datetime import timedelta

import pytest
from django.utils import timezone

from experiments.hashing import assign_arm
from experiments.models import Assignment, Experiment, ExperimentPhase, ExperimentStatus
from experiments.selectors import running_experiments_memo
from experiments.services import (
    arm_offered,
    choose_variant,
    experiment_pause,
    experiment_weights_change,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_assignment_matches_growthbook_hashing_of_the_phase_seed(running_experiment, us_newcomer):
    experiment = running_experiment()
    user = us_newcomer()

    choice = choose_variant(user, "first_login")

    phase = ExperimentPhase.objects.get(experiment=experiment, number=1)
    arms = list(experiment.arms.order_by("position", "pk"))
    index = assign_arm(
        seed=phase.seed,
        user_key=str(user.pk),
        weights=[phase.weight_of(arm.pk) for arm in arms],
        coverage=1.0,
    )
    assert phase.seed == experiment.key
    assert choice.arm == arms[index]
    assert choice.variant == arms[index].variant
    assert choice.phase == 1


def test_assignment_is_sticky_even_when_the_hash_would_now_say_otherwise(
    running_experiment, us_newcomer
):
    experiment = running_experiment()
    user = us_newcomer()
    first = choose_variant(user, "first_login")
    other_arm = experiment.arms.exclude(pk=first.arm.pk).first()
    Assignment.objects.filter(user=user).update(arm=other_arm)

    again = choose_variant(user, "first_login")

    assert again.arm == other_arm
    assert Assignment.objects.filter(user=user).count() == 1


def test_repeated_choices_create_one_assignment(running_experiment, us_newcomer):
    running_experiment()
    user = us_newcomer()

    arms = {choose_variant(user, "first_login").arm for _ in range(3)}

    assert len(arms) == 1
    assert Assignment.objects.filter(user=user).count() == 1


def test_weight_change_starts_a_new_phase_with_a_new_seed(running_experiment):
    experiment = running_experiment()
    arms = list(experiment.arms.order_by("position"))

    phase = experiment_weights_change(
        experiment=experiment, weights={arms[0].pk: 2.0, arms[1].pk: 1.0, arms[2].pk: 1.0}
    )

    experiment.refresh_from_db()
    old = ExperimentPhase.objects.get(experiment=experiment, number=1)
    assert experiment.phase == phase.number == 2
    assert phase.seed != old.seed
    assert old.ended_at is not None
    assert phase.weights == {str(arms[0].pk): 2.0, str(arms[1].pk): 1.0, str(arms[2].pk): 1.0}
    arms[0].refresh_from_db()
    assert arms[0].weight == 2.0


def test_weight_change_re_randomises_users_into_the_new_phase(running_experiment, us_newcomer):
    experiment = running_experiment()
    users = [us_newcomer() for _ in range(40)]
    before = {u.pk: choose_variant(u, "first_login").arm.pk for u in users}
    arms = list(experiment.arms.order_by("position"))

    experiment_weights_change(experiment=experiment, weights={arms[0].pk: 1.0, arms[1].pk: 2.0})
    experiment.refresh_from_db()
    after = {u.pk: choose_variant(u, "first_login") for u in users}

    assert all(choice.phase == 2 for choice in after.values())
    assert Assignment.objects.filter(experiment=experiment, phase=1).count() == 40
    assert Assignment.objects.filter(experiment=experiment, phase=2).count() == 40
    moved = sum(1 for u in users if after[u.pk].arm.pk != before[u.pk])
    assert moved > 0, "a new seed reshuffles users rather than keeping phase 1's arms"
    # The old phase's assignments are untouched: analysed separately, never rewritten.
    kept = dict(Assignment.objects.filter(phase=1).values_list("user_id", "arm_id"))
    assert kept == before


def test_unchanged_weights_do_not_start_a_phase(running_experiment):
    experiment = running_experiment()
    arm = experiment.arms.first()

    phase = experiment_weights_change(experiment=experiment, weights={arm.pk: arm.weight})

    assert phase.number == 1
    assert ExperimentPhase.objects.filter(experiment=experiment).count() == 1


def test_users_outside_coverage_see_the_default_design_and_are_not_assigned(
    running_experiment, us_newcomer
):
    experiment = running_experiment(coverage=0.2)
    phase = ExperimentPhase.objects.get(experiment=experiment)
    weights = [phase.weight_of(a.pk) for a in experiment.arms.order_by("position")]
    outside = None
    for _ in range(60):
        candidate = us_newcomer()
        if (
            assign_arm(seed=phase.seed, user_key=str(candidate.pk), weights=weights, coverage=0.2)
            is None
        ):
            outside = candidate
            break
    assert outside is not None

    choice = choose_variant(outside, "first_login")

    assert choice.arm is None
    assert choice.variant.key == "two_buttons"  # consent's default design
    assert not Assignment.objects.filter(user=outside).exists()


def test_new_user_audience_excludes_users_who_joined_before_the_policy(running_experiment, policy):
    running_experiment(audience="new_users")
    veteran = UserFactory(country="US", date_joined=policy.effective_at - timedelta(days=30))
    newcomer = UserFactory(country="US", date_joined=policy.effective_at + timedelta(minutes=1))

    assert choose_variant(veteran, "first_login").arm is None
    assert choose_variant(newcomer, "first_login").arm is not None


def test_existing_user_audience_excludes_users_who_joined_after_the_policy(
    running_experiment, policy
):
    running_experiment(audience="existing_users", surface="existing_notice")
    veteran = UserFactory(country="US", date_joined=policy.effective_at - timedelta(days=30))
    newcomer = UserFactory(country="US", date_joined=timezone.now())

    assert choose_variant(veteran, "existing_notice").arm is not None
    assert choose_variant(newcomer, "existing_notice").arm is None


@pytest.mark.parametrize("country", ["DE", ""])
def test_country_audience_excludes_other_and_unknown_countries(
    running_experiment, us_newcomer, country
):
    running_experiment(countries=["US"])

    assert choose_variant(us_newcomer(country=country), "first_login").arm is None


def test_other_surfaces_are_not_part_of_the_experiment(running_experiment, us_newcomer):
    running_experiment()

    assert choose_variant(us_newcomer(), "deadline_gate").arm is None


def test_paused_experiment_shows_everyone_the_default_design(running_experiment, us_newcomer):
    experiment = running_experiment()
    user = us_newcomer()
    choose_variant(user, "first_login")

    experiment_pause(experiment=experiment)

    choice = choose_variant(user, "first_login")
    assert choice.arm is None
    assert choice.variant.key == "two_buttons"


def test_arm_is_offered_only_to_users_assigned_to_it(running_experiment, us_newcomer):
    experiment = running_experiment()
    user = us_newcomer()
    mine = choose_variant(user, "first_login").arm
    other = experiment.arms.exclude(pk=mine.pk).first()

    assert arm_offered(user, mine)
    assert not arm_offered(user, other)
    assert not arm_offered(us_newcomer(), mine)


def test_a_process_that_missed_a_pause_assigns_nobody_and_reloads(running_experiment, us_newcomer):
    experiment = running_experiment()
    choose_variant(us_newcomer(), "first_login")  # this process now remembers it as running
    # Paused by another process: no signal reaches this process's memo.
    Experiment.objects.filter(pk=experiment.pk).update(status=ExperimentStatus.PAUSED)
    newcomer = us_newcomer()

    choice = choose_variant(newcomer, "first_login")

    assert choice.arm is None
    assert not Assignment.objects.filter(user=newcomer).exists()
    assert running_experiments_memo.get() == []
