"""Planning an experiment on the opt-in rate: power, minimum detectable effect, days needed.

GrowthBook's frequentist method, as documented in "Power Analysis Technical
Details" (docs/statistics/power-technical.mdx in growthbook/growthbook) and
implemented in its power calculator (``powerEstFrequentist``,
``findMdeFrequentist``, ``powerMetricWeeks``; first in
packages/front-end/components/PowerCalculation/stats.ts, since PR #3503 in
packages/shared/src/power/power.ts). Written here from the formulas, checked
against that module's unit tests in ``tests/experiments/test_power.py``.

The model:

* ``users`` is the total across all arms, split equally: ``users / arms`` per arm
  (GrowthBook's assumption; with unequal weights the smallest arm rules).
* The effect is *relative*: a lift of 0.1 takes an opt-in rate of 30% to 33%. Its
  standard error is the delta-method one gbstats uses for a relative lift, with
  both arms' variance p(1 - p) of the baseline and the treatment mean
  p(1 + effect).
* Power is two-sided: P(significant gain) + P(significant loss).
* The MDE solves effect / se(effect) = z(1 - alpha/2) - z(1 - power) exactly for
  the relative lift; se depends on the effect, which gives a quadratic
  (the technical note's derivation), not the usual closed form.
* With sequential testing GrowthBook widens the variance to the confidence
  sequence's (Waudby-Smith et al.) at the same sample size.

No correction for several arms is applied here, as in GrowthBook's calculator; the
dashboard's Holm or Benjamini-Hochberg adjustment costs some of this power when
there are more than two arms (see docs/experiments.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

# GrowthBook's calculator stops at 999 weeks; a consent experiment that needs more
# than ten years of traffic is not going to be run, and the search must end.
MAX_DAYS = 3650


class PlanningError(ValueError):
    """The inputs cannot give an answer (the message says which and why)."""


def _z(q: float) -> float:
    return float(norm.ppf(q))


def _check(*, rate: float, alpha: float, arms: int) -> None:
    if not 0 < rate < 1:
        raise PlanningError("The baseline opt-in rate must lie strictly between 0% and 100%.")
    if not 0 < alpha < 1:
        raise PlanningError("Alpha must lie strictly between 0 and 1.")
    if arms < 2:
        raise PlanningError("An experiment needs at least two arms.")


def relative_lift_variance(
    *,
    control_variance: float,
    control_mean: float,
    control_users: float,
    treatment_variance: float,
    treatment_mean: float,
    treatment_users: float,
    relative: bool = True,
) -> float:
    """Variance of the lift estimate: the delta method for a relative lift (gbstats' formula)."""
    if not relative:
        return treatment_variance / treatment_users + control_variance / control_users
    return treatment_variance / (control_mean**2 * treatment_users) + (
        control_variance * treatment_mean**2 / (control_mean**4 * control_users)
    )


def _sequential_variance(variance: float, n: float, alpha: float, tuning: float) -> float:
    """The per-unit variance that makes a fixed-horizon z-interval as wide as the sequence's.

    GrowthBook's ``sequentialPowerSequentialVariance``: the confidence sequence's
    half-width at ``n`` units (eq. 9 and 161 of arXiv:2103.06476v7), divided by the
    fixed-horizon z, squared, times ``n``.
    """
    rho_sq = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    spread = n * rho_sq + 1
    discriminant = 2 * spread * math.log(math.sqrt(spread) / alpha) / (n**2 * rho_sq)
    z_sequential = math.sqrt(n) * math.sqrt(discriminant)
    standard_error = math.sqrt(variance / n) * z_sequential / _z(1 - alpha / 2)
    return n * standard_error**2


def lift_standard_error(
    *,
    mean: float,
    variance: float,
    effect: float,
    users: float,
    arms: int,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> float:
    """Standard error of the relative lift at ``users`` in total, split over ``arms``."""
    per_arm = users / arms
    lift_variance = relative_lift_variance(
        control_variance=variance,
        control_mean=mean,
        control_users=per_arm,
        treatment_variance=variance,
        treatment_mean=mean * (1 + effect),
        treatment_users=per_arm,
    )
    if sequential_tuning:
        # GrowthBook scales by the pair of arms being compared: 2 * users / arms.
        lift_variance = _sequential_variance(lift_variance, 2 * per_arm, alpha, sequential_tuning)
    return math.sqrt(lift_variance)


def power_for_effect(*, effect: float, standard_error: float, alpha: float = 0.05) -> float:
    """Two-sided power: the chance that a true lift ``effect`` is found significant either way."""
    z_star = _z(1 - alpha / 2)
    standardized = effect / standard_error
    return float(norm.sf(z_star - standardized) + norm.cdf(-z_star - standardized))


def mean_power(
    *,
    mean: float,
    variance: float,
    effect: float,
    users: float,
    arms: int,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> float:
    """Power of a metric with this mean and per-user variance (GrowthBook's powerEstFrequentist)."""
    standard_error = lift_standard_error(
        mean=mean,
        variance=variance,
        effect=effect,
        users=users,
        arms=arms,
        alpha=alpha,
        sequential_tuning=sequential_tuning,
    )
    return power_for_effect(effect=effect, standard_error=standard_error, alpha=alpha)


def mean_mde(
    *,
    mean: float,
    variance: float,
    power: float,
    users: float,
    arms: int,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> float:
    """Smallest relative lift detected with ``power`` (GrowthBook's findMdeFrequentist).

    Solves (m_b - m)^2 = k^2 sigma^2 / n (1 + m_b^2 / m^2) for the treatment mean
    m_b, k = z(1 - alpha/2) - z(1 - power), and returns m_b / m - 1. Raises
    PlanningError when no lift is detectable at this sample size.
    """
    if power <= alpha:
        raise PlanningError("Power must be greater than alpha.")
    per_arm = users / arms
    k = _z(1 - alpha / 2) - _z(1 - power)
    if sequential_tuning:
        variance = _sequential_variance(variance, 2 * per_arm, alpha, sequential_tuning)
    if per_arm <= variance * k**2 / mean**2:
        raise PlanningError(
            "Too few users for any lift to be detectable: plan more days or fewer arms."
        )
    sigma_sq = variance / per_arm
    a = 1 - k**2 * sigma_sq / mean**2
    b = -2 * mean
    c = mean**2 - k**2 * sigma_sq
    treatment_mean = (-b + math.sqrt(b**2 - 4 * a * c)) / (2 * a)
    return (treatment_mean - mean) / mean


def opt_in_power(
    *,
    baseline_rate: float,
    effect: float,
    users: float,
    arms: int,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> float:
    """Power to detect a relative ``effect`` on an opt-in rate of ``baseline_rate``."""
    _check(rate=baseline_rate, alpha=alpha, arms=arms)
    return mean_power(
        mean=baseline_rate,
        variance=baseline_rate * (1 - baseline_rate),
        effect=effect,
        users=users,
        arms=arms,
        alpha=alpha,
        sequential_tuning=sequential_tuning,
    )


def opt_in_mde(
    *,
    baseline_rate: float,
    power: float,
    users: float,
    arms: int,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
) -> float:
    """Minimum detectable relative lift of the opt-in rate with ``users`` in total."""
    _check(rate=baseline_rate, alpha=alpha, arms=arms)
    return mean_mde(
        mean=baseline_rate,
        variance=baseline_rate * (1 - baseline_rate),
        power=power,
        users=users,
        arms=arms,
        alpha=alpha,
        sequential_tuning=sequential_tuning,
    )


@dataclass(frozen=True)
class Plan:
    """What a planned experiment needs: days and exposed users to reach ``power`` at ``mde``."""

    baseline_rate: float
    mde: float
    power: float
    alpha: float
    arms: int
    daily_users: float
    min_runtime_days: int
    users_needed: int | None  # None: not reachable within MAX_DAYS of this traffic
    days_for_power: int | None
    sequential_tuning: float | None = None

    @property
    def days_needed(self) -> int | None:
        """Days to run: enough users for the power, and never less than the minimum runtime."""
        if self.days_for_power is None:
            return None
        return max(self.days_for_power, self.min_runtime_days)

    def mde_after(self, days: int) -> float | None:
        """The smallest lift this traffic detects with the planned power after ``days`` days."""
        try:
            return opt_in_mde(
                baseline_rate=self.baseline_rate,
                power=self.power,
                users=self.daily_users * days,
                arms=self.arms,
                alpha=self.alpha,
                sequential_tuning=self.sequential_tuning,
            )
        except PlanningError:
            return None

    def power_after(self, days: int) -> float:
        return opt_in_power(
            baseline_rate=self.baseline_rate,
            effect=self.mde,
            users=self.daily_users * days,
            arms=self.arms,
            alpha=self.alpha,
            sequential_tuning=self.sequential_tuning,
        )


def users_needed(
    *,
    baseline_rate: float,
    mde: float,
    power: float,
    arms: int,
    alpha: float = 0.05,
    sequential_tuning: float | None = None,
    limit: int = 10**9,
) -> int | None:
    """The fewest users in total (a multiple of ``arms``) with at least ``power`` at ``mde``.

    Power grows with the sample, so a doubling search then bisection finds it;
    None when even ``limit`` users are not enough.
    """
    if mde <= 0:
        raise PlanningError("The target minimum detectable effect must be above 0%.")
    if not alpha < power < 1:
        raise PlanningError("Power must lie between alpha and 100%.")

    def enough(per_arm: int) -> bool:
        return (
            opt_in_power(
                baseline_rate=baseline_rate,
                effect=mde,
                users=per_arm * arms,
                arms=arms,
                alpha=alpha,
                sequential_tuning=sequential_tuning,
            )
            >= power
        )

    high = 2
    while not enough(high):
        high *= 2
        if high * arms > limit:
            return None
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high * arms


def plan(
    *,
    baseline_rate: float,
    mde: float,
    daily_users: float,
    arms: int,
    alpha: float = 0.05,
    power: float = 0.8,
    min_runtime_days: int = 7,
    sequential_tuning: float | None = None,
) -> Plan:
    """Users and days needed to detect a relative lift ``mde`` of the opt-in rate."""
    _check(rate=baseline_rate, alpha=alpha, arms=arms)
    if daily_users <= 0:
        raise PlanningError("Expected exposures per day must be above zero.")
    needed = users_needed(
        baseline_rate=baseline_rate,
        mde=mde,
        power=power,
        arms=arms,
        alpha=alpha,
        sequential_tuning=sequential_tuning,
    )
    days = None
    if needed is not None:
        days = math.ceil(needed / daily_users)
        if days > MAX_DAYS:
            days = None
    return Plan(
        baseline_rate=baseline_rate,
        mde=mde,
        power=power,
        alpha=alpha,
        arms=arms,
        daily_users=daily_users,
        min_runtime_days=min_runtime_days,
        users_needed=needed,
        days_for_power=days,
        sequential_tuning=sequential_tuning,
    )
