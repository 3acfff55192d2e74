"""Conversion-rate statistics for consent experiments, matching GrowthBook's ``gbstats``.

The formulas follow ``packages/stats/gbstats`` in growthbook/growthbook (the
published ``gbstats`` package): a binomial arm is gbstats' ``ProportionStatistic``
(mean = conversions / users, variance = p(1 - p)), and the tests mirror
``TwoSidedTTest``, ``SequentialTwoSidedTTest``, ``EffectBayesianABTest`` (default,
flat prior) and ``utils.check_srm``. Results are checked against gbstats' own
unit-test numbers in ``tests/experiments/test_stats.py``.

Where gbstats cannot analyse the data (no users, a zero baseline, zero variance
from 0% or 100% conversion) it returns placeholder numbers; here the numeric
fields are ``None`` instead, with gbstats' error code in ``error``, so no
placeholder can be mistaken for a measurement. The code is the one gbstats 0.8.0
(the release on PyPI, growthbook/growthbook commit c6b15529f6) picks, in its order:
see ``_frequentist_error`` and ``_bayesian_error``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import chi2, norm, t

__all__ = [
    "BASELINE_ZERO",
    "NO_UNITS",
    "ZERO_VARIANCE",
    "BayesianResult",
    "FrequentistResult",
    "bayesian_test",
    "benjamini_hochberg_adjust",
    "frequentist_test",
    "holm_adjust",
    "proportion_ci",
    "sequential_test",
    "srm_p_value",
]

# gbstats.messages codes, kept verbatim so results can be compared with GrowthBook's.
NO_UNITS = "NO_UNITS_IN_VARIATION"
BASELINE_ZERO = "ZERO_NEGATIVE_BASELINE_VARIATION"
ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"

Interval = tuple[float, float]


@dataclass(frozen=True)
class FrequentistResult:
    """Treatment vs control; ``expected`` is the relative lift (or absolute difference).

    Every number is ``None`` when ``error`` says why the data cannot be analysed.
    """

    expected: float | None
    ci: Interval | None
    p_value: float | None
    uplift_mean: float | None
    uplift_stddev: float | None
    error: str | None = None


@dataclass(frozen=True)
class BayesianResult:
    """Posterior of the lift; ``risk`` is (loss if control is shipped, loss if treatment is).

    Every number is ``None`` when ``error`` says why the data cannot be analysed.
    """

    chance_to_win: float | None
    expected: float | None
    ci: Interval | None
    uplift_mean: float | None
    uplift_stddev: float | None
    risk: Interval | None
    error: str | None = None


@dataclass(frozen=True)
class _Arm:
    """gbstats' ProportionStatistic: a binomial arm as its mean and per-user variance."""

    users: int
    conversions: int

    @property
    def mean(self) -> float:
        return self.conversions / self.users if self.users else 0.0

    @property
    def variance(self) -> float:
        return self.mean * (1 - self.mean)


def _arm(users: int, conversions: int, label: str) -> _Arm:
    if users < 0 or conversions < 0:
        raise ValueError(f"{label} counts must not be negative")
    if conversions > users:
        raise ValueError(f"{label} has more conversions than users")
    return _Arm(users, conversions)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be strictly between 0 and 1")


def _frequentist_error(control: _Arm, treatment: _Arm) -> str | None:
    """gbstats 0.8.0 ``TTest.compute_result`` (fixed and sequential): the checks, in its order.

    A zero control mean is reported first, for a relative *and* an absolute
    difference, and an empty arm is reported through its zero mean or zero variance
    (a control with no users: ``ZERO_NEGATIVE_BASELINE_VARIATION``), never as
    ``NO_UNITS_IN_VARIATION``, which gbstats' frequentist tests do not return.
    """
    if control.mean == 0:
        return BASELINE_ZERO
    if control.variance <= 0 or treatment.variance <= 0:
        return ZERO_VARIANCE
    return None


def _bayesian_error(control: _Arm, treatment: _Arm, relative: bool) -> str | None:
    """gbstats 0.8.0 ``EffectBayesianABTest.compute_result``: the checks, in its order."""
    if relative and control.mean == 0:
        return BASELINE_ZERO
    if control.users == 0 or treatment.users == 0:
        return NO_UNITS
    if control.variance <= 0 or treatment.variance <= 0:
        return ZERO_VARIANCE
    return None


def _effect(control: _Arm, treatment: _Arm, relative: bool) -> tuple[float, float]:
    """gbstats' frequentist_diff and frequentist_variance (delta method for a relative lift)."""
    if relative:
        mean = (treatment.mean - control.mean) / control.mean
        variance = treatment.variance / (control.mean**2 * treatment.users) + (
            control.variance * treatment.mean**2 / (control.mean**4 * control.users)
        )
    else:
        mean = treatment.mean - control.mean
        variance = treatment.variance / treatment.users + control.variance / control.users
    return mean, variance


def _welch_dof(control: _Arm, treatment: _Arm) -> float:
    """Welch-Satterthwaite degrees of freedom, as gbstats' TTest.dof."""
    var_a, n_a = control.variance, control.users
    var_b, n_b = treatment.variance, treatment.users
    return (var_b / n_b + var_a / n_a) ** 2 / (
        var_b**2 / (n_b**2 * (n_b - 1)) + var_a**2 / (n_a**2 * (n_a - 1))
    )


def frequentist_test(
    *,
    control_users: int,
    control_conversions: int,
    treatment_users: int,
    treatment_conversions: int,
    alpha: float = 0.05,
    relative: bool = True,
) -> FrequentistResult:
    """Two-sided Welch t-test on conversion rates, as gbstats' ``TwoSidedTTest``.

    A fixed-horizon test: its p-value is only valid if read once, at the planned
    sample size; use ``sequential_test`` for results that are watched as they come in.
    """
    _check_alpha(alpha)
    control = _arm(control_users, control_conversions, "control")
    treatment = _arm(treatment_users, treatment_conversions, "treatment")
    error = _frequentist_error(control, treatment)
    if error:
        return FrequentistResult(None, None, None, None, None, error)

    mean, variance = _effect(control, treatment, relative)
    stddev = math.sqrt(variance)
    dof = _welch_dof(control, treatment)
    half_width = float(t.ppf(1 - alpha / 2, dof)) * stddev
    # gbstats writes 2 * (1 - cdf); sf is the same number without cancellation for tiny p.
    p_value = float(2 * t.sf(abs(mean) / stddev, dof))
    return FrequentistResult(
        expected=mean,
        ci=(mean - half_width, mean + half_width),
        p_value=p_value,
        uplift_mean=mean,
        uplift_stddev=stddev,
    )


def sequential_test(
    *,
    control_users: int,
    control_conversions: int,
    treatment_users: int,
    treatment_conversions: int,
    alpha: float = 0.05,
    relative: bool = True,
    sequential_tuning_parameter: float = 5000,
) -> FrequentistResult:
    """Always-valid test for peeking, as gbstats' ``SequentialTwoSidedTTest``.

    Uses the asymptotic confidence sequence of Waudby-Smith et al. (eqs. 9, 155
    and 161 of arXiv:2103.06476v7); the tuning parameter is the total sample size
    at which the interval is tightest (GrowthBook's default is 5000).
    """
    _check_alpha(alpha)
    if sequential_tuning_parameter <= 0:
        raise ValueError("sequential_tuning_parameter must be positive")
    control = _arm(control_users, control_conversions, "control")
    treatment = _arm(treatment_users, treatment_conversions, "treatment")
    error = _frequentist_error(control, treatment)
    if error:
        return FrequentistResult(None, None, None, None, None, error)

    mean, variance = _effect(control, treatment, relative)
    total = control.users + treatment.users
    rho_sq = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / (
        sequential_tuning_parameter
    )
    spread = total * rho_sq + 1
    half_width = math.sqrt(variance * total) * math.sqrt(
        2 * spread * math.log(math.sqrt(spread) / alpha) / (total**2 * rho_sq)
    )
    # p = min(1, 1 / e-value), with the e-value kept in logs so huge effects cannot overflow.
    scaled_sq = mean**2 * total / variance
    log_evalue = rho_sq * scaled_sq / (2 * spread) - 0.5 * math.log(spread)
    p_value = 1.0 if log_evalue <= 0 else math.exp(-log_evalue)
    return FrequentistResult(
        expected=mean,
        ci=(mean - half_width, mean + half_width),
        p_value=p_value,
        uplift_mean=mean,
        uplift_stddev=math.sqrt(variance),
    )


def bayesian_test(
    *,
    control_users: int,
    control_conversions: int,
    treatment_users: int,
    treatment_conversions: int,
    alpha: float = 0.05,
    relative: bool = True,
) -> BayesianResult:
    """Normal posterior of the lift under gbstats' default flat prior (``EffectBayesianABTest``).

    With the improper flat prior the posterior is N(estimate, delta-method
    variance), so ``ci`` is the (1 - alpha) credible interval and
    ``chance_to_win`` the posterior probability that treatment beats control.
    """
    _check_alpha(alpha)
    control = _arm(control_users, control_conversions, "control")
    treatment = _arm(treatment_users, treatment_conversions, "treatment")
    error = _bayesian_error(control, treatment, relative)
    if error:
        return BayesianResult(None, None, None, None, None, None, error)

    mean, variance = _effect(control, treatment, relative)
    stddev = math.sqrt(variance)
    low, high = (float(x) for x in norm.ppf([alpha / 2, 1 - alpha / 2], mean, stddev))
    # gbstats' get_risk: P(X>0)E[X|X>0] and -P(X<0)E[X|X<0] for X ~ N(mean, stddev),
    # written in closed form so extreme effects do not hit truncnorm's tails.
    z = mean / stddev
    density = stddev * float(norm.pdf(z))
    risk_control = mean * float(norm.cdf(z)) + density
    risk_treatment = density - mean * float(norm.cdf(-z))
    return BayesianResult(
        chance_to_win=float(norm.sf(0, mean, stddev)),
        expected=mean,
        ci=(low, high),
        uplift_mean=mean,
        uplift_stddev=stddev,
        risk=(risk_control, risk_treatment),
    )


def srm_p_value(observed: Sequence[int], weights: Sequence[float]) -> float:
    """Chi-square goodness-of-fit p-value of users per arm vs planned weights (gbstats' check_srm).

    A small value (GrowthBook warns below 0.001) means assignment or logging is
    broken and the experiment's results should not be trusted. As in gbstats, an
    arm with weight <= 0 adds nothing to the statistic (no division by zero) but
    still counts toward the degrees of freedom, and no users at all gives 1.
    """
    if len(observed) != len(weights):
        raise ValueError("observed and weights need one entry per arm")
    if len(observed) < 2:
        raise ValueError("a sample-ratio check needs at least two arms")
    if any(count < 0 for count in observed):
        raise ValueError("observed counts must not be negative")
    total_observed = sum(observed)
    if not total_observed:
        return 1.0
    total_weight = sum(weights)
    statistic = 0.0
    for count, weight in zip(observed, weights, strict=True):
        if weight <= 0:
            continue
        expected = weight / total_weight * total_observed
        statistic += (count - expected) ** 2 / expected
    return float(chi2.sf(statistic, len(observed) - 1))


def proportion_ci(successes: int, n: int, alpha: float = 0.05) -> Interval:
    """Wilson score interval (no continuity correction) for one arm's conversion rate.

    Wilson rather than Wald because it stays inside [0, 1] and keeps its coverage
    at 0% and 100% and for small arms. With no users any rate is possible: (0, 1).
    """
    _check_alpha(alpha)
    if n < 0 or successes < 0 or successes > n:
        raise ValueError("need 0 <= successes <= n")
    if n == 0:
        return (0.0, 1.0)
    z = float(norm.ppf(1 - alpha / 2))
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half_width = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return (low, high)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (GrowthBook's step-down method).

    Controls the family-wise error rate across several metrics or arms while being
    uniformly more powerful than plain Bonferroni.
    """
    if any(not 0 <= p <= 1 for p in p_values):  # also rejects NaN
        raise ValueError("p-values must lie in [0, 1]")
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running_max = 0.0
    for rank, index in enumerate(order):
        running_max = max(running_max, min(1.0, p_values[index] * (m - rank)))
        adjusted[index] = running_max
    return adjusted


def benjamini_hochberg_adjust(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order.

    GrowthBook's step-up method (``adjustPValuesBenjaminiHochberg`` in
    packages/shared/src/experiments/experiments.ts): from the largest p-value down,
    p * m / rank, capped at 1 and never above the adjusted value of a larger p-value.
    Controls the expected share of false winners rather than the chance of any, so it
    keeps more power than Holm when several arms are compared.
    """
    if any(not 0 <= p <= 1 for p in p_values):  # also rejects NaN
        raise ValueError("p-values must lie in [0, 1]")
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running_min = 1.0
    for position, index in enumerate(order):
        rank = m - position  # 1 for the smallest p-value
        running_min = min(running_min, p_values[index] * m / rank)
        adjusted[index] = running_min
    return adjusted
