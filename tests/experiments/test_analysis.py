"""The dashboard's numbers against a small fixture computed by hand."""

from datetime import timedelta

import pytest
from django.utils import timezone

from experiments import stats
from experiments.analysis import experiment_results
from experiments.models import Arm, Exposure
from experiments.services import experiment_launch, experiment_stop, experiment_weights_change
from tests.factories import UserFactory

from .data import decide, expose

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
EXPOSED = NOW - timedelta(days=9)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def small_experiment(make_experiment, policy):
    """Two arms, nine exposed users, every rule of the analysis exercised once.

    Control (two_buttons), 4 exposed + 1 assigned only:
      a1 opt_in after 10 s, opened Learn more, opted out in settings 2 days later
      a2 opt_out after 20 s;  a3 opt_in after 30 s;  a4 never decided
    Treatment (accept_toggle_on), 5 exposed:
      b1 opt_in after 4 s;  b2 opt_in after 6 s;  b3 opt_out after 8 s, touched the toggle
      b4 opt_in after 2 s, then opt_out on the same screen a day later (a reversal; not a 2nd decision)
      b5 only changed privacy settings: not a decision on the experiment's surface
    """
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"))
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control = Arm.objects.get(experiment=experiment, is_control=True)
    treatment = Arm.objects.get(experiment=experiment, is_control=False)

    a1 = expose(control, at=EXPOSED)
    decide(
        a1,
        policy,
        choice="opt_in",
        at=EXPOSED + s(10),
        shown_at=EXPOSED,
        arm=control,
        learn_more_opened=True,
    )
    decide(a1, policy, choice="opt_out", surface="settings", at=EXPOSED + timedelta(days=2))
    a2 = expose(control, at=EXPOSED)
    decide(a2, policy, choice="opt_out", at=EXPOSED + s(20), shown_at=EXPOSED, arm=control)
    a3 = expose(control, at=EXPOSED)
    decide(a3, policy, choice="opt_in", at=EXPOSED + s(30), shown_at=EXPOSED, arm=control)
    expose(control, at=EXPOSED)
    UserFactory()  # not in the experiment at all
    from experiments.models import Assignment

    Assignment.objects.create(
        experiment=experiment, user=UserFactory(), arm=control, phase=1, assigned_at=EXPOSED
    )

    for seconds, choice, touched in [
        (4, "opt_in", False),
        (6, "opt_in", False),
        (8, "opt_out", True),
    ]:
        user = expose(treatment, at=EXPOSED)
        decide(
            user,
            policy,
            choice=choice,
            at=EXPOSED + s(seconds),
            shown_at=EXPOSED,
            arm=treatment,
            toggle_touched=touched,
        )
    b4 = expose(treatment, at=EXPOSED)
    decide(b4, policy, choice="opt_in", at=EXPOSED + s(2), shown_at=EXPOSED, arm=treatment)
    decide(b4, policy, choice="opt_out", at=EXPOSED + timedelta(days=1), arm=treatment)
    b5 = expose(treatment, at=EXPOSED)
    decide(b5, policy, choice="opt_in", surface="settings", at=EXPOSED + s(40))
    return experiment


def arm_result(results, key):
    return next(a for a in results.arms if a.variant.key == key)


def test_counts_per_arm_match_the_hand_computed_fixture(small_experiment):
    results = experiment_results(experiment=small_experiment, now=NOW)

    control = arm_result(results, "two_buttons")
    treatment = arm_result(results, "accept_toggle_on")
    assert (
        control.assigned,
        control.exposed,
        control.decisions.decided,
        control.decisions.opt_ins,
    ) == (5, 4, 3, 2)
    assert (
        treatment.assigned,
        treatment.exposed,
        treatment.decisions.decided,
        treatment.decisions.opt_ins,
    ) == (5, 5, 4, 3)
    assert control.opt_in_rate == 2 / 4
    assert treatment.opt_in_rate == 3 / 5
    assert control.decision_rate == 3 / 4


def test_rates_intervals_and_tests_match_gbstats(small_experiment):
    results = experiment_results(experiment=small_experiment, now=NOW)

    treatment = arm_result(results, "accept_toggle_on")
    counts = {
        "control_users": 4,
        "control_conversions": 2,
        "treatment_users": 5,
        "treatment_conversions": 3,
    }
    welch = stats.frequentist_test(**counts)
    bayes = stats.bayesian_test(**counts)
    assert treatment.opt_in_ci == stats.proportion_ci(3, 5)
    assert treatment.comparison.lift == pytest.approx(0.2)
    assert treatment.comparison.lift_ci == welch.ci
    assert treatment.comparison.p_value == welch.p_value
    assert treatment.comparison.p_value_adjusted == welch.p_value  # two arms: no correction
    assert treatment.comparison.chance_to_win == bayes.chance_to_win
    assert treatment.comparison.risk_treatment == bayes.risk[1]
    assert arm_result(results, "two_buttons").comparison is None


def test_guardrails_match_the_hand_computed_fixture(small_experiment):
    results = experiment_results(experiment=small_experiment, now=NOW)

    control = arm_result(results, "two_buttons")
    treatment = arm_result(results, "accept_toggle_on")
    assert control.toggle_touched_rate is None  # two buttons: no toggle to touch
    assert treatment.toggle_touched_rate == 1 / 4
    assert control.learn_more_rate == 1 / 3
    assert treatment.learn_more_rate == 0
    assert control.decisions.median_seconds == pytest.approx(20)
    assert treatment.decisions.median_seconds == pytest.approx(5)  # (4 + 6) / 2
    assert (control.decisions.reversals, control.decisions.opt_ins_matured) == (1, 2)
    assert (treatment.decisions.reversals, treatment.decisions.opt_ins_matured) == (1, 3)
    assert treatment.reversal_rate == pytest.approx(1 / 3)


def test_recent_opt_ins_are_not_counted_for_reversals_until_seven_days_old(small_experiment):
    results = experiment_results(experiment=small_experiment, now=EXPOSED + timedelta(days=3))

    control = arm_result(results, "two_buttons")
    assert control.decisions.opt_ins_matured == 0
    assert control.reversal_rate is None


def test_winsorised_mean_caps_the_slowest_decision(make_experiment, policy):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control = experiment.arms.get(is_control=True)
    # 199 users take 10 s, one leaves the tab open for a day: p99 is 10 s.
    for index in range(200):
        user = expose(control, at=EXPOSED)
        seconds = 86400 if index == 0 else 10
        decide(
            user, policy, choice="opt_out", at=EXPOSED + s(seconds), shown_at=EXPOSED, arm=control
        )

    decisions = arm_result(
        experiment_results(experiment=experiment, now=NOW), "two_buttons"
    ).decisions

    assert decisions.median_seconds == pytest.approx(10)
    assert decisions.winsorized_mean_seconds == pytest.approx(10)


def test_decisions_after_the_stop_are_not_counted(make_experiment, policy):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control = experiment.arms.get(is_control=True)
    early = expose(control, at=EXPOSED)
    late = expose(control, at=EXPOSED)
    decide(early, policy, choice="opt_in", at=EXPOSED + s(5), arm=control)
    experiment_stop(experiment=experiment, now=EXPOSED + timedelta(hours=1))
    decide(late, policy, choice="opt_in", at=EXPOSED + timedelta(hours=2), arm=control)

    results = experiment_results(experiment=experiment, now=NOW)

    assert arm_result(results, "two_buttons").decisions.decided == 1


def test_phases_are_analysed_separately(make_experiment, policy):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control = experiment.arms.get(is_control=True)
    before = expose(control, at=EXPOSED)
    decide(before, policy, choice="opt_in", at=EXPOSED + s(5), arm=control)
    experiment_weights_change(
        experiment=experiment, weights={control.pk: 2.0}, now=EXPOSED + timedelta(days=1)
    )
    expose(control, at=EXPOSED + timedelta(days=2), phase=2)
    experiment.refresh_from_db()

    current = experiment_results(experiment=experiment, now=NOW)
    first = experiment_results(experiment=experiment, phase_number=1, now=NOW)

    assert current.phase.number == 2
    assert arm_result(current, "two_buttons").exposed == 1
    assert arm_result(current, "two_buttons").decisions.decided == 0
    assert arm_result(first, "two_buttons").decisions.opt_ins == 1
    assert current.arms[0].weight == pytest.approx(2 / 3)


def _bulk_expose(arm, count):
    users = UserFactory.create_batch(count)
    Exposure.objects.bulk_create(
        [
            Exposure(experiment=arm.experiment, user=u, arm=arm, phase=1, exposed_at=EXPOSED)
            for u in users
        ]
    )


def test_sample_ratio_mismatch_is_flagged_below_one_in_a_thousand(make_experiment):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control, treatment = experiment.arms.order_by("position")
    _bulk_expose(control, 300)
    _bulk_expose(treatment, 200)

    results = experiment_results(experiment=experiment, now=NOW)

    assert results.srm_p_value == pytest.approx(stats.srm_p_value([300, 200], [0.5, 0.5]))
    assert results.srm_p_value < 0.001
    assert results.srm_warning
    assert "srm" in [w.kind for w in results.warnings]


def test_balanced_exposures_raise_no_sample_ratio_warning(make_experiment):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control, treatment = experiment.arms.order_by("position")
    _bulk_expose(control, 51)
    _bulk_expose(treatment, 49)

    results = experiment_results(experiment=experiment, now=NOW)

    assert not results.srm_warning
    assert "srm" not in [w.kind for w in results.warnings]


def test_zero_weight_arm_neither_crashes_nor_skews_the_ratio_check(make_experiment):
    experiment = make_experiment(
        designs=("two_buttons", "accept_toggle_on", "accept_toggle_off"), weights=[1, 1, 0]
    )
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control, treatment, _ = experiment.arms.order_by("position")
    _bulk_expose(control, 50)
    _bulk_expose(treatment, 50)

    results = experiment_results(experiment=experiment, now=NOW)

    empty = arm_result(results, "accept_toggle_off")
    assert empty.weight == 0
    assert empty.opt_in_rate is None
    assert empty.comparison.p_value is None
    assert results.srm_p_value == pytest.approx(1.0)
    assert "sample" not in [w.kind for w in results.warnings if "accept_toggle_off" in w.message]


def test_holm_correction_applies_with_more_than_two_arms(make_experiment, policy):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on", "accept_toggle_off"))
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    arms = list(experiment.arms.order_by("position"))
    for arm, opt_ins in zip(arms, [3, 6, 4], strict=True):
        for index in range(10):
            user = expose(arm, at=EXPOSED)
            choice = "opt_in" if index < opt_ins else "opt_out"
            decide(user, policy, choice=choice, at=EXPOSED + s(5), arm=arm)

    results = experiment_results(experiment=experiment, now=NOW)

    raw = [a.comparison.p_value for a in results.arms[1:]]
    assert results.correction_applied and results.correction_label == "Holm"
    assert [a.comparison.p_value_adjusted for a in results.arms[1:]] == stats.holm_adjust(raw)


def test_benjamini_hochberg_applies_when_the_experiment_chooses_it(make_experiment, policy):
    experiment = make_experiment(
        designs=("two_buttons", "accept_toggle_on", "accept_toggle_off"),
        p_value_correction="benjamini_hochberg",
    )
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    arms = list(experiment.arms.order_by("position"))
    for arm, opt_ins in zip(arms, [3, 8, 6], strict=True):
        for index in range(12):
            user = expose(arm, at=EXPOSED)
            choice = "opt_in" if index < opt_ins else "opt_out"
            decide(user, policy, choice=choice, at=EXPOSED + s(5), arm=arm)

    results = experiment_results(experiment=experiment, now=NOW)

    raw = [a.comparison.p_value for a in results.arms[1:]]
    adjusted = [a.comparison.p_value_adjusted for a in results.arms[1:]]
    assert results.correction_label == "Benjamini-Hochberg"
    assert adjusted == stats.benjamini_hochberg_adjust(raw)
    assert adjusted != stats.holm_adjust(raw)


def test_sequential_mode_uses_the_always_valid_test(make_experiment, policy):
    experiment = make_experiment(sequential_testing=True)
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=10))
    control, treatment = experiment.arms.order_by("position")
    for arm, opt_ins in ((control, 3), (treatment, 7)):
        for index in range(10):
            user = expose(arm, at=EXPOSED)
            decide(
                user,
                policy,
                choice="opt_in" if index < opt_ins else "opt_out",
                at=EXPOSED + s(5),
                arm=arm,
            )

    results = experiment_results(experiment=experiment, now=NOW)

    expected = stats.sequential_test(
        control_users=10, control_conversions=3, treatment_users=10, treatment_conversions=7
    )
    assert results.arms[1].comparison.p_value == expected.p_value
    assert "peeking" not in [w.kind for w in results.warnings]


def test_small_and_young_experiments_warn(make_experiment):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=2))

    kinds = [w.kind for w in experiment_results(experiment=experiment, now=NOW).warnings]

    assert "sample" in kinds
    assert "not_enough_data" in kinds
    assert "peeking" in kinds


def test_draft_experiment_has_no_results(make_experiment):
    results = experiment_results(experiment=make_experiment(), now=NOW)

    assert results.phase is None
    assert [w.kind for w in results.warnings] == ["not_started"]
