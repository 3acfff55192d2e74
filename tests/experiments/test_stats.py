"""Conversion statistics checked against GrowthBook's own published test numbers.

Sources (all in growthbook/growthbook; gbstats' ProportionStatistic(sum=x, n=n) is
x conversions out of n users here). Values are compared at the decimals the
upstream test rounds to:

* packages/stats/tests/frequentist/test_tests.py (revision whose tests take
  ``[(stat_a, stat_b)]`` and ``FrequentistConfig``), 5 decimals:
  ``test_two_sided_ttest_binom`` and ``test_sequential_test_runs_prop``.
* packages/stats/tests/bayesian/test_tests.py (revision using
  ``EffectBayesianABTest``), 5 decimals: ``TestBinom.test_bayesian_binomial_ab_test``
  and ``test_missing_data``.
* packages/stats/tests/test_gbstats.py (earlier revision), 9 decimals: ``test_srm``.
* packages/back-end/test/stats.test.ts, 9 decimals: "calculates SRM correctly",
  only the cases where the back-end's checkSrm and gbstats' check_srm agree
  (they treat zero-weight and zero-user arms differently; we follow gbstats).
* packages/shared/test/experiments.test.ts: "does HB procedure correctly",
  "does BH procedure correctly" and both halves of "pvals and CIs adjusted in place".
* gbstats 0.8.0 (PyPI; commit c6b15529f6): the error code of each degenerate case.
"""

import math

import numpy as np
import pytest
from scipy.stats import binomtest, chi2, norm

from experiments.stats import (
    BASELINE_ZERO,
    NO_UNITS,
    ZERO_VARIANCE,
    bayesian_test,
    benjamini_hochberg_adjust,
    frequentist_test,
    holm_adjust,
    proportion_ci,
    sequential_test,
    srm_p_value,
)

GBSTATS_DECIMALS = 5
SRM_DECIMALS = 9


def rounded(value: float, decimals: int = GBSTATS_DECIMALS) -> float:
    """np.round, the rounding gbstats' own tests apply before comparing."""
    return float(np.round(value, decimals))


# test_two_sided_ttest_binom: ProportionStatistic(sum=14, n=28) vs (sum=16, n=30), relative
BINOM = {
    "control_users": 28,
    "control_conversions": 14,
    "treatment_users": 30,
    "treatment_conversions": 16,
}
# test_sequential_test_runs_prop: (sum=1396, n=3000) vs (sum=2422, n=3461), default config
SEQUENTIAL_PROP = {
    "control_users": 3000,
    "control_conversions": 1396,
    "treatment_users": 3461,
    "treatment_conversions": 2422,
}
# TestBinom.test_bayesian_binomial_ab_test: (sum=49, n=100) vs (sum=51, n=100)
BAYES_BINOM = {
    "control_users": 100,
    "control_conversions": 49,
    "treatment_users": 100,
    "treatment_conversions": 51,
}


# --- frequentist: gbstats TwoSidedTTest ---------------------------------------------------


def test_frequentist_expected_lift_matches_gbstats():
    result = frequentist_test(**BINOM)
    assert rounded(result.expected) == rounded((16 / 30 - 0.5) / 0.5)


def test_frequentist_ci_matches_gbstats():
    low, high = frequentist_test(**BINOM).ci
    assert (rounded(low), rounded(high)) == (-0.47767, 0.61101)


def test_frequentist_uplift_matches_gbstats():
    result = frequentist_test(**BINOM)
    assert (rounded(result.uplift_mean), rounded(result.uplift_stddev)) == (0.06667, 0.2717)


def test_frequentist_p_value_matches_gbstats():
    assert rounded(frequentist_test(**BINOM).p_value) == 0.80707


def test_frequentist_result_has_no_error():
    assert frequentist_test(**BINOM).error is None


def test_frequentist_absolute_difference_is_rate_difference():
    result = frequentist_test(**BINOM, relative=False)
    assert result.expected == pytest.approx(16 / 30 - 14 / 28)


# --- sequential: gbstats SequentialTwoSidedTTest -------------------------------------------


def test_sequential_expected_matches_gbstats():
    assert rounded(sequential_test(**SEQUENTIAL_PROP).expected) == 0.50386


def test_sequential_ci_matches_gbstats():
    low, high = sequential_test(**SEQUENTIAL_PROP).ci
    assert (rounded(low), rounded(high)) == (0.40098, 0.60675)


def test_sequential_uplift_matches_gbstats():
    result = sequential_test(**SEQUENTIAL_PROP)
    assert (rounded(result.uplift_mean), rounded(result.uplift_stddev)) == (0.50386, 0.03386)


def test_sequential_p_value_matches_gbstats():
    assert rounded(sequential_test(**SEQUENTIAL_PROP).p_value) == 0.0


def test_sequential_ci_is_wider_than_fixed_horizon_ci():
    """The price of being allowed to peek."""
    fixed_low, fixed_high = frequentist_test(**SEQUENTIAL_PROP).ci
    seq_low, seq_high = sequential_test(**SEQUENTIAL_PROP).ci
    assert seq_low < fixed_low and seq_high > fixed_high


def test_sequential_p_value_is_one_when_evidence_is_weak():
    assert sequential_test(**BINOM).p_value == 1.0


def test_sequential_rejects_non_positive_tuning_parameter():
    with pytest.raises(ValueError, match="tuning"):
        sequential_test(**BINOM, sequential_tuning_parameter=0)


# --- bayesian: gbstats EffectBayesianABTest, default flat prior ------------------------------


def test_bayesian_expected_matches_gbstats():
    assert rounded(bayesian_test(**BAYES_BINOM).expected) == 0.04082


def test_bayesian_ci_matches_gbstats():
    low, high = bayesian_test(**BAYES_BINOM).ci
    assert (rounded(low), rounded(high)) == (-0.24779, 0.32943)


def test_bayesian_uplift_matches_gbstats():
    result = bayesian_test(**BAYES_BINOM)
    assert (rounded(result.uplift_mean), rounded(result.uplift_stddev)) == (0.04082, 0.14725)


def test_bayesian_chance_to_win_matches_gbstats():
    assert rounded(bayesian_test(**BAYES_BINOM).chance_to_win) == 0.60918


def test_bayesian_risk_matches_gbstats():
    risk_control, risk_treatment = bayesian_test(**BAYES_BINOM).risk
    assert (rounded(risk_control), rounded(risk_treatment)) == (0.0814, 0.04058)


def test_bayesian_missing_data_is_reported_not_raised():
    # test_missing_data: ProportionStatistic(0, 0) in both arms cannot be analysed
    # (gbstats 0.8.0 returns its placeholder with ZERO_NEGATIVE_BASELINE_VARIATION).
    result = bayesian_test(
        control_users=0, control_conversions=0, treatment_users=0, treatment_conversions=0
    )
    assert result.error == BASELINE_ZERO
    assert result.chance_to_win is None and result.expected is None


def test_bayesian_extreme_effect_stays_finite():
    result = bayesian_test(
        control_users=100_000,
        control_conversions=1_000,
        treatment_users=100_000,
        treatment_conversions=9_000,
    )
    assert result.chance_to_win == pytest.approx(1.0)
    assert all(math.isfinite(r) and r >= 0 for r in result.risk)


# --- degenerate inputs: gbstats' own error code, never an exception or NaN ------------------
#
# Expected codes are what gbstats 0.8.0 (PyPI; growthbook/growthbook commit c6b15529f6)
# returns for ProportionStatistic(sum, n) pairs: TwoSidedTTest and SequentialTwoSidedTTest
# share TTest.compute_result (zero baseline mean first, then zero variance), and
# EffectBayesianABTest.compute_result checks a zero baseline (relative only), then empty
# arms, then zero variance. Its own tests pin two of them: frequentist
# test_two_sided_ttest_missing_variance (ZERO_NEGATIVE_VARIANCE) and bayesian
# TestBinom.test_missing_data (0 of 0 in both arms); the rest were produced by running
# that gbstats release on each row. (The repository's main branch since PR #4185 checks
# variance first, which turns every row here into ZERO_NEGATIVE_VARIANCE.)
V, B, N = ZERO_VARIANCE, BASELINE_ZERO, NO_UNITS
# (control users, control conversions, treatment users, treatment conversions):
#     (frequentist and sequential, bayesian relative, bayesian absolute)
GBSTATS_DEGENERATE_CODES = {
    (0, 0, 0, 0): (B, B, N),
    (0, 0, 10, 0): (B, B, N),
    (0, 0, 10, 5): (B, B, N),
    (0, 0, 10, 10): (B, B, N),
    (10, 0, 0, 0): (B, B, N),
    (10, 5, 0, 0): (V, N, N),
    (10, 10, 0, 0): (V, N, N),
    (10, 0, 10, 0): (B, B, V),
    (10, 0, 10, 5): (B, B, V),
    (10, 0, 10, 10): (B, B, V),
    (10, 5, 10, 0): (V, V, V),
    (10, 5, 10, 10): (V, V, V),
    (10, 10, 10, 0): (V, V, V),
    (10, 10, 10, 5): (V, V, V),
    (10, 10, 10, 10): (V, V, V),
    (1, 1, 10, 5): (V, V, V),
    (10, 5, 1, 0): (V, V, V),
}


def _counts(case):
    control_users, control_conversions, treatment_users, treatment_conversions = case
    return {
        "control_users": control_users,
        "control_conversions": control_conversions,
        "treatment_users": treatment_users,
        "treatment_conversions": treatment_conversions,
    }


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("test", [frequentist_test, sequential_test])
@pytest.mark.parametrize(("case", "codes"), GBSTATS_DEGENERATE_CODES.items())
def test_frequentist_degenerate_counts_give_gbstats_error_code(case, codes, test, relative):
    result = test(**_counts(case), relative=relative)
    assert result.error == codes[0]
    assert result.expected is None and result.ci is None and result.p_value is None


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize(("case", "codes"), GBSTATS_DEGENERATE_CODES.items())
def test_bayesian_degenerate_counts_give_gbstats_error_code(case, codes, relative):
    result = bayesian_test(**_counts(case), relative=relative)
    assert result.error == (codes[1] if relative else codes[2])
    assert result.chance_to_win is None and result.risk is None


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("test", [frequentist_test, sequential_test, bayesian_test])
def test_analysable_counts_give_no_error_code(test, relative):
    assert test(**_counts((10, 5, 10, 5)), relative=relative).error is None


def test_more_conversions_than_users_is_a_caller_error():
    with pytest.raises(ValueError, match="more conversions than users"):
        frequentist_test(
            control_users=10, control_conversions=11, treatment_users=10, treatment_conversions=1
        )


def test_negative_counts_are_a_caller_error():
    with pytest.raises(ValueError, match="negative"):
        bayesian_test(
            control_users=-1, control_conversions=0, treatment_users=10, treatment_conversions=1
        )


def test_alpha_outside_unit_interval_is_a_caller_error():
    with pytest.raises(ValueError, match="alpha"):
        frequentist_test(**BINOM, alpha=1.5)


# --- sample ratio mismatch: gbstats check_srm -----------------------------------------------


@pytest.mark.parametrize(
    ("observed", "weights", "expected"),
    [
        # test_gbstats.py test_srm (also stats.test.ts "Simple 2-way test")
        ([1000, 1200], [0.5, 0.5], 0.000020079),
        # stats.test.ts "Another 2-way test"
        ([135, 115], [0.5, 0.5], 0.205903211),
        # stats.test.ts "Uneven weights"
        ([310, 98], [0.75, 0.25], 0.647434186),
        # stats.test.ts "More than 2 variations"
        ([500, 500, 600], [0.34, 0.33, 0.33], 0.000592638),
        # stats.test.ts "Completely equal"
        ([500, 500], [0.5, 0.5], 1),
    ],
)
def test_srm_p_value_matches_growthbook(observed, weights, expected):
    assert rounded(srm_p_value(observed, weights), SRM_DECIMALS) == expected


def test_srm_zero_weight_arm_is_skipped_without_crashing():
    """As gbstats: no term for the zero-weight arm, but it still counts toward dof and total."""
    observed, weights = [1000, 1200, 900], [0.5, 0.5, 0]
    expected_each = 0.5 * sum(observed)
    statistic = sum((o - expected_each) ** 2 / expected_each for o in observed[:2])
    assert srm_p_value(observed, weights) == pytest.approx(chi2.sf(statistic, 2))


def test_srm_with_no_users_is_one():
    assert srm_p_value([0, 0], [0.5, 0.5]) == 1.0


def test_srm_with_all_weights_zero_is_one():
    assert srm_p_value([10, 20], [0, 0]) == 1.0


def test_srm_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one entry per arm"):
        srm_p_value([10, 20, 30], [0.5, 0.5])


def test_srm_rejects_single_arm():
    with pytest.raises(ValueError, match="two arms"):
        srm_p_value([10], [1.0])


# --- Holm-Bonferroni: GrowthBook's adjustPValuesHolmBonferroni ------------------------------


def test_holm_adjust_matches_growthbook():
    # experiments.test.ts: [0.01, 0.04, 0.03, 0.005, 0.55, 0.6] -> sorted
    # [0.03 (#3), 0.05 (#0), 0.12 (#2), 0.12 (#1), 1 (#4), 1 (#5)]; here in input order.
    adjusted = holm_adjust([0.01, 0.04, 0.03, 0.005, 0.55, 0.6])
    assert adjusted == pytest.approx([0.05, 0.12, 0.12, 0.03, 1, 1])


def test_holm_adjust_is_monotone_in_rank():
    # experiments.test.ts "pvals and CIs adjusted in place": 0.025, 0.03 -> 0.05, 0.05
    assert holm_adjust([0.025, 0.03]) == pytest.approx([0.05, 0.05])


def test_holm_adjust_of_nothing_is_nothing():
    assert holm_adjust([]) == []


def test_holm_adjust_leaves_a_single_p_value_alone():
    assert holm_adjust([0.03]) == [0.03]


def test_holm_adjust_rejects_nan():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm_adjust([0.01, math.nan])


# --- Wilson interval for one arm ------------------------------------------------------------


@pytest.mark.parametrize(("successes", "n"), [(1, 29), (15, 148), (81, 263), (50, 100), (3, 4)])
def test_proportion_ci_agrees_with_scipy_wilson(successes, n):
    """Independent reference: scipy's binomtest(...).proportion_ci(method="wilson")."""
    reference = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert proportion_ci(successes, n) == pytest.approx((reference.low, reference.high))


def test_proportion_ci_with_no_successes_has_closed_form_upper_bound():
    z = norm.ppf(0.975)
    assert proportion_ci(0, 20) == pytest.approx((0.0, z**2 / (20 + z**2)))


def test_proportion_ci_with_all_successes_reaches_one():
    low, high = proportion_ci(20, 20)
    assert high == 1.0
    assert low == pytest.approx(1 - proportion_ci(0, 20)[1])


def test_proportion_ci_widens_with_smaller_alpha():
    narrow, wide = proportion_ci(30, 100, alpha=0.1), proportion_ci(30, 100, alpha=0.01)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_proportion_ci_without_users_is_uninformative():
    assert proportion_ci(0, 0) == (0.0, 1.0)


def test_proportion_ci_rejects_more_successes_than_trials():
    with pytest.raises(ValueError, match="successes"):
        proportion_ci(5, 4)


# --- Benjamini-Hochberg: GrowthBook's adjustPValuesBenjaminiHochberg ------------------------
# BH lives in packages/shared/src/experiments/experiments.ts (not in gbstats' Python);
# the numbers are its tests' in packages/shared/test/experiments.test.ts.


def test_benjamini_hochberg_matches_growthbook():
    # describe("pvalue correction method") it("does BH procedure correctly"), 8 decimals:
    # [0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138] -> sorted by p descending
    # [0.964 (#3), 0.964 (#0), 0.7532 (#4), 0.2415 (#1), 0.2415 (#6), 0.0245 (#2), 0.0245 (#5)].
    adjusted = benjamini_hochberg_adjust([0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138])
    assert [round(p, 8) for p in adjusted] == [0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415]


def test_benjamini_hochberg_on_results_matches_growthbook():
    # describe("pvalue correction on results") it("pvals and CIs adjusted in place"):
    # pValue 0.025 and 0.03 -> pValueAdjusted 0.03 and 0.03 under "benjamini-hochberg".
    assert benjamini_hochberg_adjust([0.025, 0.03]) == pytest.approx([0.03, 0.03])


def test_benjamini_hochberg_is_never_stricter_than_holm():
    raw = [0.01, 0.04, 0.03, 0.005, 0.55, 0.6]
    assert all(
        bh <= holm
        for bh, holm in zip(benjamini_hochberg_adjust(raw), holm_adjust(raw), strict=True)
    )


def test_benjamini_hochberg_refuses_p_values_outside_zero_one():
    with pytest.raises(ValueError, match="p-values"):
        benjamini_hochberg_adjust([0.2, float("nan")])
