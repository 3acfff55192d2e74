"""The power calculator against GrowthBook's own unit-test numbers.

Source: growthbook/growthbook packages/shared/test/power.test.ts (until PR #3503 the
front-end's components/PowerCalculation stats tests), ``describe("backend")``. Every
expected value below is copied from that file and compared at its 5 decimals
(``toFixed(5)``). Their metrics: a mean metric (mean 10, sd sqrt(3909.9997749994377),
400 000 users over 3 variations), a binomial "click_through_rate" (10%, effect 5%)
and a mean "revenue" (mean 0.1, sd sqrt(0.5), effect 30%), 4 500 users a week.
"""

import math

import pytest

from experiments.power import (
    PlanningError,
    mean_mde,
    mean_power,
    opt_in_mde,
    opt_in_power,
    plan,
    relative_lift_variance,
    users_needed,
)


def rounded(value: float) -> float:
    """JavaScript's +x.toFixed(5), as the upstream tests compare."""
    return round(value, 5)


MEAN_METRIC = {"mean": 10, "variance": 3909.9997749994377}
USERS_PER_WEEK = 4500
REVENUE = {"mean": 0.1, "variance": 0.5, "effect": 0.3}
CLICK_THROUGH_RATE = {"baseline_rate": 0.1, "effect": 0.05}


# it("delta method variance absolute correct") / it("delta method variance relative correct")
@pytest.mark.parametrize(("relative", "expected"), [(False, 0.53333), (True, 0.00589)])
def test_delta_method_variance_matches_growthbook(relative, expected):
    variance = relative_lift_variance(
        control_variance=2,
        control_mean=7,
        control_users=4,
        treatment_variance=0.5,
        treatment_mean=5,
        treatment_users=15,
        relative=relative,
    )
    assert rounded(variance) == expected


# it("calculates power correctly") and it("calculates sequential power correctly")
@pytest.mark.parametrize(("tuning", "expected"), [(None, 0.52144), (5000, 0.20596)])
def test_power_matches_growthbook(tuning, expected):
    power = mean_power(
        **MEAN_METRIC, effect=0.05, users=400_000, arms=3, alpha=0.05, sequential_tuning=tuning
    )
    assert rounded(power) == expected


# it("calculates two-tailed mde correctly") and it("calculates sequential mde correctly")
@pytest.mark.parametrize(("tuning", "expected"), [(None, 0.07027), (5000, 0.12821)])
def test_mde_matches_growthbook(tuning, expected):
    mde = mean_mde(
        **MEAN_METRIC, power=0.8, users=400_000, arms=3, alpha=0.05, sequential_tuning=tuning
    )
    assert rounded(mde) == expected


# it("checks power"): powerSolution / mdeSolution, the frequentist engine, weeks 1 to 9,
# alternating click_through_rate and revenue as the upstream arrays do.
POWER_SOLUTION = [
    0.073, 0.17053, 0.0965, 0.29389, 0.1204, 0.41122, 0.14458, 0.51749, 0.16895,
    0.61037, 0.19342, 0.68938, 0.21791, 0.75513, 0.24235, 0.80886, 0.26666, 0.85213,
]  # fmt: skip
MDE_SOLUTION = [
    0.36767, 1.26769, 0.24505, 0.71941, 0.19525, 0.54299, 0.16673, 0.4506, 0.14774,
    0.39208, 0.13394, 0.35099, 0.12336, 0.32018, 0.11491, 0.29603, 0.10796, 0.27647,
]  # fmt: skip
# it("checks sequential power"), sequentialTesting: 5000.
SEQUENTIAL_POWER_SOLUTION = [
    0.05936, 0.09832, 0.06912, 0.14992, 0.07849, 0.19972, 0.08761, 0.24784, 0.09657,
    0.29426, 0.10541, 0.33888, 0.11415, 0.38165, 0.12282, 0.42249, 0.13142, 0.46136,
]  # fmt: skip
SEQUENTIAL_MDE_SOLUTION = [
    0.65545, 4.33868, 0.4112, 1.51846, 0.32394, 1.04943, 0.27607, 0.84084, 0.24484,
    0.71862, 0.22241, 0.63663, 0.20532, 0.577, 0.19172, 0.53123, 0.18058, 0.49473,
]  # fmt: skip


def _weekly(tuning):
    powers, mdes = [], []
    for week in range(1, 10):
        users = USERS_PER_WEEK * week
        common = {"users": users, "arms": 3, "alpha": 0.05, "sequential_tuning": tuning}
        powers.append(
            opt_in_power(
                baseline_rate=CLICK_THROUGH_RATE["baseline_rate"],
                effect=CLICK_THROUGH_RATE["effect"],
                **common,
            )
        )
        powers.append(
            mean_power(
                mean=REVENUE["mean"],
                variance=REVENUE["variance"],
                effect=REVENUE["effect"],
                **common,
            )
        )
        mdes.append(
            opt_in_mde(baseline_rate=CLICK_THROUGH_RATE["baseline_rate"], power=0.8, **common)
        )
        mdes.append(
            mean_mde(mean=REVENUE["mean"], variance=REVENUE["variance"], power=0.8, **common)
        )
    return [rounded(p) for p in powers], [rounded(m) for m in mdes]


def test_weekly_power_and_mde_match_growthbook():
    powers, mdes = _weekly(None)
    assert powers == POWER_SOLUTION
    assert mdes == MDE_SOLUTION


def test_weekly_sequential_power_and_mde_match_growthbook():
    powers, mdes = _weekly(5000)
    assert powers == SEQUENTIAL_POWER_SOLUTION
    assert mdes == SEQUENTIAL_MDE_SOLUTION


def test_click_through_rate_needs_more_than_nine_weeks_as_growthbook_says():
    # sampleSizeAndRuntime: click_through_rate never reaches 80% within the 9 weeks.
    needed = users_needed(baseline_rate=0.1, mde=0.05, power=0.8, arms=3)
    assert needed > 9 * USERS_PER_WEEK


# --- the planner built on it -----------------------------------------------------------------


def test_users_needed_is_the_first_sample_with_the_planned_power():
    needed = users_needed(baseline_rate=0.35, mde=0.2, power=0.8, arms=2)
    just_enough = opt_in_power(baseline_rate=0.35, effect=0.2, users=needed, arms=2)
    one_fewer_per_arm = opt_in_power(baseline_rate=0.35, effect=0.2, users=needed - 2, arms=2)
    assert needed % 2 == 0
    assert just_enough >= 0.8 > one_fewer_per_arm


def test_plan_days_cover_the_users_needed_and_the_minimum_runtime():
    quick = plan(baseline_rate=0.35, mde=0.5, daily_users=10_000, arms=2, min_runtime_days=7)
    slow = plan(baseline_rate=0.35, mde=0.05, daily_users=100, arms=3, min_runtime_days=7)
    assert quick.days_for_power == 1 and quick.days_needed == 7
    assert slow.days_needed == math.ceil(slow.users_needed / 100)
    assert slow.power_after(slow.days_needed) >= 0.8


def test_mde_after_the_planned_days_is_at_most_the_target():
    planned = plan(baseline_rate=0.3, mde=0.1, daily_users=500, arms=3)
    assert planned.mde_after(planned.days_for_power) <= 0.1 < planned.mde_after(1)


def test_plan_out_of_reach_says_so_instead_of_a_number():
    planned = plan(baseline_rate=0.3, mde=0.0001, daily_users=1, arms=3)
    assert planned.days_needed is None


@pytest.mark.parametrize(
    "bad",
    [
        {"baseline_rate": 0.0},
        {"baseline_rate": 1.0},
        {"mde": 0.0},
        {"daily_users": 0},
        {"arms": 1},
        {"alpha": 0.0},
        {"power": 0.01},
    ],
)
def test_plan_refuses_inputs_that_have_no_answer(bad):
    inputs = {"baseline_rate": 0.3, "mde": 0.1, "daily_users": 100, "arms": 2, "alpha": 0.05}
    with pytest.raises(PlanningError):
        plan(**(inputs | bad))


def test_mde_with_too_few_users_is_refused():
    with pytest.raises(PlanningError, match="Too few users"):
        opt_in_mde(baseline_rate=0.01, power=0.8, users=20, arms=3)
