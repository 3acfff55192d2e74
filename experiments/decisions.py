"""The decision rule: when an arm may be shipped, written once and used everywhere.

An arm other than the control gets exactly one verdict (``arm_verdict``), checked in
this order, the first that applies deciding:

1. **Do not ship: fails compliance lint (<rule>)** when its design fails a lint rule
   of a jurisdiction in the experiment's audience (today the EU/EEA/UK rules of
   ``experiments.compliance``; an audience without a country list includes them).
2. **Do not ship: <guardrail> worse** when any consent-quality guardrail is
   significantly worse than the control's (two-sided test at alpha = 0.05,
   *not* corrected for several arms or guardrails: a harm signal must not be diluted,
   as GrowthBook leaves guardrail metrics out of its corrections). Checked even while
   data is still coming in: harm seen early is harm.
3. **Keep running: not enough data yet** until the phase has run the minimum
   runtime *and* exposed the users the power calculation needs for the target MDE.
4. **Keep running: sample ratio mismatch** while the split looks broken.
5. **Keep running** while the opt-in rate cannot be compared (a gbstats error code).
6. **Do not ship: opt-in rate lower** when the corrected p-value is below alpha and
   the lift is negative.
7. **Ship** when the corrected p-value is below alpha and the lift is positive.
8. **Keep running: no significant difference** otherwise.

So "ship" needs all three: a significant gain in opt-ins after correction, no
significantly worse guardrail, and a clean lint. A design that wins opt-ins by
surprising people shows it in its 7-day reversals and is refused.

Guardrails are proportions compared with a pooled two-proportion z-test rather than
gbstats' relative t-test: a control with no reversals at all is the normal case,
and gbstats would report a zero baseline instead of the harm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from scipy.stats import norm

from .compliance import Finding

ALPHA = 0.05
# A decision this fast cannot have followed reading the dialog; a design that makes
# more people answer within it is rushing them (the time-to-decide guardrail).
QUICK_DECISION_SECONDS = 3


class VerdictKind(models.TextChoices):
    SHIP = "ship", "Ship"
    DO_NOT_SHIP = "do_not_ship", "Do not ship"
    KEEP_RUNNING = "keep_running", "Keep running"
    CONTROL = "control", "Control"


@dataclass(frozen=True)
class Verdict:
    kind: str
    reason: str = ""

    @property
    def label(self) -> str:
        """What the dashboard prints: "ship", "do not ship: 7-day reversal rate worse", ..."""
        text = VerdictKind(self.kind).label.lower()
        return f"{text}: {self.reason}" if self.reason else text

    @property
    def ships(self) -> bool:
        return self.kind == VerdictKind.SHIP


CONTROL_VERDICT = Verdict(VerdictKind.CONTROL, "the baseline the other arms are compared with")


@dataclass(frozen=True)
class Guardrail:
    """One consent-quality guardrail: a share, and which direction is harm."""

    key: str
    label: str
    higher_is_worse: bool
    note: str = ""


REVERSAL = Guardrail(
    "reversal_rate",
    "7-day reversal rate",
    higher_is_worse=True,
    note="opt-ins at least 7 days old that were withdrawn within 7 days",
)
LEARN_MORE = Guardrail(
    "learn_more",
    "learn-more opened",
    higher_is_worse=False,
    note="client-reported: a browser without JavaScript never reports it",
)
QUICK_DECISIONS = Guardrail(
    "quick_decisions",
    f"time to decide (decided within {QUICK_DECISION_SECONDS} s)",
    higher_is_worse=True,
    note="share of deciders who answered faster than the dialog can be read",
)
TOGGLE_TOUCHED = Guardrail(
    "toggle_touched",
    "toggle touched",
    higher_is_worse=False,
    note="only when both the arm and the control have a toggle",
)
GUARDRAILS = (REVERSAL, LEARN_MORE, QUICK_DECISIONS, TOGGLE_TOUCHED)


@dataclass(frozen=True)
class GuardrailResult:
    guardrail: Guardrail
    control_count: int
    control_total: int
    arm_count: int
    arm_total: int
    p_value: float | None  # None: nothing to compare yet (an empty arm, or no events at all)
    alpha: float = ALPHA

    @property
    def control_rate(self) -> float | None:
        return self.control_count / self.control_total if self.control_total else None

    @property
    def arm_rate(self) -> float | None:
        return self.arm_count / self.arm_total if self.arm_total else None

    @property
    def difference(self) -> float | None:
        if self.control_rate is None or self.arm_rate is None:
            return None
        return self.arm_rate - self.control_rate

    @property
    def worse(self) -> bool:
        """Significantly worse than the control (uncorrected, two-sided, at alpha)."""
        if self.p_value is None or self.p_value >= self.alpha or not self.difference:
            return False
        return (self.difference > 0) == self.guardrail.higher_is_worse

    @property
    def better(self) -> bool:
        if self.p_value is None or self.p_value >= self.alpha or not self.difference:
            return False
        return (self.difference > 0) != self.guardrail.higher_is_worse


def two_proportion_p_value(
    control_count: int, control_total: int, arm_count: int, arm_total: int
) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when it is undefined."""
    if not 0 <= control_count <= control_total or not 0 <= arm_count <= arm_total:
        raise ValueError("need 0 <= count <= total in both arms")
    if not control_total or not arm_total:
        return None
    pooled = (control_count + arm_count) / (control_total + arm_total)
    if pooled in (0.0, 1.0):
        return None  # no events (or only events) anywhere: nothing differs
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / control_total + 1 / arm_total))
    z = (arm_count / arm_total - control_count / control_total) / standard_error
    return float(2 * norm.sf(abs(z)))


def guardrail_compare(
    guardrail: Guardrail,
    *,
    control: tuple[int, int],
    arm: tuple[int, int],
    alpha: float = ALPHA,
) -> GuardrailResult:
    """Compare one guardrail's (count, total) in the arm with the control's."""
    return GuardrailResult(
        guardrail=guardrail,
        control_count=control[0],
        control_total=control[1],
        arm_count=arm[0],
        arm_total=arm[1],
        p_value=two_proportion_p_value(*control, *arm),
        alpha=alpha,
    )


@dataclass(frozen=True)
class Readiness:
    """Whether a phase has enough data to decide: minimum runtime and the planned sample."""

    runtime_days: float
    min_runtime_days: int
    exposed: int
    users_needed: int | None  # None: the plan cannot be reached (or cannot be computed)

    @property
    def runtime_met(self) -> bool:
        return self.runtime_days >= self.min_runtime_days

    @property
    def sample_met(self) -> bool:
        return self.users_needed is not None and self.exposed >= self.users_needed

    @property
    def enough(self) -> bool:
        return self.runtime_met and self.sample_met

    @property
    def missing(self) -> str:
        parts = []
        if not self.runtime_met:
            parts.append(f"{self.runtime_days:.1f} of {self.min_runtime_days} days run")
        if self.users_needed is None:
            parts.append("the target effect is out of reach for the planned traffic")
        elif not self.sample_met:
            parts.append(f"{self.exposed:,} of {self.users_needed:,} users exposed")
        return "; ".join(parts)


def arm_verdict(
    *,
    lift: float | None,
    p_value_adjusted: float | None,
    comparison_error: str | None,
    guardrails: Sequence[GuardrailResult],
    compliance_failures: Sequence[Finding],
    readiness: Readiness,
    sample_ratio_mismatch: bool,
    alpha: float = ALPHA,
) -> Verdict:
    """The one decision rule (see the module docstring) for a treatment arm."""
    if compliance_failures:
        rules = ", ".join(f.rule.title.lower() for f in compliance_failures)
        return Verdict(VerdictKind.DO_NOT_SHIP, f"fails compliance lint ({rules})")
    worse = [g.guardrail.label for g in guardrails if g.worse]
    if worse:
        return Verdict(VerdictKind.DO_NOT_SHIP, f"{', '.join(worse)} worse")
    if not readiness.enough:
        return Verdict(VerdictKind.KEEP_RUNNING, f"not enough data yet ({readiness.missing})")
    if sample_ratio_mismatch:
        return Verdict(VerdictKind.KEEP_RUNNING, "sample ratio mismatch: fix the split first")
    if comparison_error or lift is None or p_value_adjusted is None:
        return Verdict(
            VerdictKind.KEEP_RUNNING,
            f"opt-in rate cannot be compared yet ({comparison_error or 'no data'})",
        )
    if p_value_adjusted < alpha and lift < 0:
        return Verdict(VerdictKind.DO_NOT_SHIP, "opt-in rate lower than the control's")
    if p_value_adjusted < alpha and lift > 0:
        return Verdict(VerdictKind.SHIP)
    return Verdict(VerdictKind.KEEP_RUNNING, "no significant difference in opt-in rate")
