"""Results of one experiment phase, as product teams read them on the dashboard.

Analysis rules (exposure-based intention to treat):

* **Unit and population.** The unit is a user. A phase's population is the users
  with an ``Exposure`` in it: the design was rendered to them, server side. Each
  counts in the arm they were assigned in that phase, whatever happened next
  (they decided elsewhere, left, or saw the default while the experiment was
  paused). Assigned users are shown too; exposed users are every rate's
  denominator unless stated otherwise. Users outside coverage or the audience
  are never assigned or exposed, so never counted.
* **A user's decision** is their *first* ``ConsentRecord`` on the experiment's
  surface with ``exposed_at <= decided_at < end of the phase`` (the next phase's
  start, or the stop); ties on the timestamp are broken by record id. Later
  records (a settings change, a notice under a newer policy) never replace it.
* **Opt-in rate** = users whose decision is ``opt_in`` / exposed users (an
  undecided user has not opted in), with a 95% Wilson interval.
* **Versus control**: the relative lift of the opt-in rate with its 95% interval
  and the two-sided Welch t-test p-value of gbstats' ``TwoSidedTTest`` (or its
  always-valid sequential test when the experiment enables it); Holm-adjusted
  (or Benjamini-Hochberg, per experiment) over the treatment arms when there are
  more than two arms. Bayesian chance of
  a higher opt-in rate and risk follow gbstats' flat-prior ``EffectBayesianABTest``.
  A higher opt-in rate is not "better" by itself: read it next to the guardrails.
* **Guardrails**, among users who decided: toggle touched (toggle designs only),
  "Learn more" opened, and time to decide (``decided_at - shown_at``: the median,
  and the mean winsorised at the 99th percentile).
* **7-day reversal**: a decision of ``opt_in`` followed by an ``opt_out`` record
  of the same user (any surface) within 7 days. Only opt-ins at least 7 days old
  count, in numerator and denominator, so recent ones cannot deflate the rate.
* **Sample ratio**: chi-square goodness of fit of exposures per arm against the
  phase's weights (gbstats' ``check_srm``; zero-weight arms add nothing), with a
  warning below p = 0.001: then assignment or logging is broken and no other
  number on the page should be trusted.
* **Phases** are analysed separately; nothing is pooled across a weight change.
* **Enough data** means the phase ran ``min_runtime_days`` and exposed the users the
  power calculation (``experiments.power``, GrowthBook's method) needs to detect the
  experiment's ``target_mde`` with ``planned_power`` at the planned baseline.
* **Verdicts** per arm follow the one rule in ``experiments.decisions``.
* **Health**: users who saw another arm, assignments never exposed, exposures before
  the phase started and weighted arms with no exposures are each a warning with a count.
* **Breakdowns** (language, country group, surface, device class) are among users who
  decided, descriptive only: no test and no verdict is computed on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.utils import timezone

from consent.models import ConsentRecord, ModalVariant

from . import stats
from .compliance import GDPR_COUNTRIES, Finding, audience_includes_gdpr, variant_findings
from .decisions import (
    ALPHA,
    CONTROL_VERDICT,
    LEARN_MORE,
    QUICK_DECISIONS,
    REVERSAL,
    TOGGLE_TOUCHED,
    GuardrailResult,
    Readiness,
    Verdict,
    arm_verdict,
    guardrail_compare,
)
from .models import Arm, Experiment, ExperimentPhase, PValueCorrection
from .power import Plan, PlanningError, plan
from .selectors import (
    DecisionCounts,
    PhaseHealth,
    arms_with_counts,
    breakdown_rows,
    decision_counts,
    experiment_phases,
    exposures_by_day,
    phase_health,
)

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class Comparison:
    """A treatment arm against the control on the opt-in rate; every number may be None."""

    lift: float | None = None
    lift_ci: tuple[float, float] | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    chance_to_win: float | None = None
    risk_treatment: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class ArmResult:
    arm: Arm
    weight: float
    assigned: int
    exposed: int
    decisions: DecisionCounts
    opt_in_rate: float | None
    opt_in_ci: tuple[float, float]
    comparison: Comparison | None  # None for the control
    findings: list[Finding]
    observed_share: float | None = None  # of all exposures in the phase
    # Lint failures that apply to the experiment's audience (the EU/EEA/UK rules when it
    # includes those countries); what the decision rule reads.
    compliance_failures: tuple[Finding, ...] = ()
    guardrails: tuple[GuardrailResult, ...] = ()
    verdict: Verdict | None = None

    @property
    def variant(self) -> ModalVariant:
        return self.arm.variant

    @property
    def is_control(self) -> bool:
        return self.arm.is_control

    @property
    def decision_rate(self) -> float | None:
        return self.decisions.decided / self.exposed if self.exposed else None

    @property
    def toggle_touched_rate(self) -> float | None:
        if not self.variant.has_toggle or not self.decisions.decided:
            return None
        return self.decisions.toggle_touched / self.decisions.decided

    @property
    def learn_more_rate(self) -> float | None:
        if not self.decisions.decided:
            return None
        return self.decisions.learn_more_opened / self.decisions.decided

    @property
    def reversal_rate(self) -> float | None:
        if not self.decisions.opt_ins_matured:
            return None
        return self.decisions.reversals / self.decisions.opt_ins_matured

    @property
    def fails_compliance(self) -> bool:
        return any(f.fails for f in self.findings)

    @property
    def quick_decision_rate(self) -> float | None:
        if not self.decisions.decided:
            return None
        return self.decisions.quick_decisions / self.decisions.decided

    @property
    def worse_guardrails(self) -> list[GuardrailResult]:
        return [g for g in self.guardrails if g.worse]

    def guardrail(self, key: str) -> GuardrailResult | None:
        return next((g for g in self.guardrails if g.guardrail.key == key), None)


@dataclass(frozen=True)
class Warning:
    kind: str
    message: str


@dataclass(frozen=True)
class TimelinePoint:
    day: date
    cumulative: dict[int, int]  # arm id -> exposures up to and including this day


@dataclass(frozen=True)
class ExperimentResults:
    experiment: Experiment
    phase: ExperimentPhase | None
    phases: list[ExperimentPhase]
    arms: list[ArmResult]
    srm_p_value: float | None
    timeline: list[TimelinePoint]
    runtime: timedelta
    computed_at: datetime
    warnings: list[Warning] = field(default_factory=list)
    plan: Plan | None = None
    plan_error: str | None = None
    readiness: Readiness | None = None
    health: PhaseHealth | None = None

    @property
    def sequential(self) -> bool:
        return self.experiment.sequential_testing

    @property
    def correction_applied(self) -> bool:
        return len(self.arms) > 2

    @property
    def correction_label(self) -> str:
        """Short name of the adjustment the p-value column shows ("Holm" or "BH")."""
        if self.experiment.p_value_correction == PValueCorrection.BENJAMINI_HOCHBERG:
            return "Benjamini-Hochberg"
        return "Holm"

    @property
    def srm_warning(self) -> bool:
        return self.srm_p_value is not None and self.srm_p_value < SRM_THRESHOLD

    @property
    def total_exposed(self) -> int:
        return sum(arm.exposed for arm in self.arms)

    @property
    def idle_arms(self) -> list[str]:
        """Keys of arms with a weight but no exposures (only meaningful once anyone is exposed)."""
        return [a.variant.key for a in self.arms if a.weight > 0 and a.exposed == 0]

    @property
    def control(self) -> ArmResult | None:
        return next((arm for arm in self.arms if arm.is_control), None)

    @property
    def runtime_days(self) -> float:
        return self.runtime.total_seconds() / 86400


def _compare(control: ArmResult, exposed: int, opt_ins: int, experiment: Experiment) -> Comparison:
    counts = {
        "control_users": control.exposed,
        "control_conversions": control.decisions.opt_ins,
        "treatment_users": exposed,
        "treatment_conversions": opt_ins,
        "alpha": ALPHA,
    }
    if experiment.sequential_testing:
        frequentist = stats.sequential_test(
            **counts, sequential_tuning_parameter=experiment.sequential_tuning
        )
    else:
        frequentist = stats.frequentist_test(**counts)
    bayesian = stats.bayesian_test(**counts)
    return Comparison(
        lift=frequentist.expected,
        lift_ci=frequentist.ci,
        p_value=frequentist.p_value,
        chance_to_win=bayesian.chance_to_win,
        risk_treatment=bayesian.risk[1] if bayesian.risk else None,
        error=frequentist.error,
    )


def _with_correction(arms: list[ArmResult], method: str) -> list[ArmResult]:
    """Adjust the treatment arms' opt-in p-values when there is more than one treatment.

    Only the primary metric is adjusted; the guardrails stay uncorrected on purpose.
    """
    treated = [a for a in arms if a.comparison is not None and a.comparison.p_value is not None]
    if len(arms) <= 2 or not treated:
        return [
            a
            if a.comparison is None
            else _replace_comparison(a, p_value_adjusted=a.comparison.p_value)
            for a in arms
        ]
    adjust = (
        stats.benjamini_hochberg_adjust
        if method == PValueCorrection.BENJAMINI_HOCHBERG
        else stats.holm_adjust
    )
    adjusted = dict(
        zip(
            (a.arm.pk for a in treated),
            adjust([a.comparison.p_value for a in treated]),
            strict=True,
        )
    )
    return [
        a
        if a.comparison is None
        else _replace_comparison(a, p_value_adjusted=adjusted.get(a.arm.pk))
        for a in arms
    ]


def _guardrails(control: ArmResult, arm: ArmResult) -> tuple[GuardrailResult, ...]:
    """The arm's consent-quality guardrails against the control's, uncorrected."""
    c, a = control.decisions, arm.decisions
    results = [
        guardrail_compare(
            REVERSAL, control=(c.reversals, c.opt_ins_matured), arm=(a.reversals, a.opt_ins_matured)
        ),
        guardrail_compare(
            LEARN_MORE,
            control=(c.learn_more_opened, c.decided),
            arm=(a.learn_more_opened, a.decided),
        ),
        guardrail_compare(
            QUICK_DECISIONS,
            control=(c.quick_decisions, c.decided),
            arm=(a.quick_decisions, a.decided),
        ),
    ]
    if control.variant.has_toggle and arm.variant.has_toggle:
        results.append(
            guardrail_compare(
                TOGGLE_TOUCHED,
                control=(c.toggle_touched, c.decided),
                arm=(a.toggle_touched, a.decided),
            )
        )
    return tuple(results)


def experiment_plan(experiment: Experiment, arms: int) -> Plan:
    """The experiment's saved planning inputs through GrowthBook's power calculation."""
    return plan(
        baseline_rate=experiment.planned_baseline_rate,
        mde=experiment.target_mde,
        daily_users=experiment.planned_daily_exposures,
        arms=arms,
        alpha=ALPHA,
        power=experiment.planned_power,
        min_runtime_days=experiment.min_runtime_days,
        sequential_tuning=(experiment.sequential_tuning if experiment.sequential_testing else None),
    )


def _with_verdicts(results: ExperimentResults) -> ExperimentResults:
    control = results.control
    arms = []
    for arm in results.arms:
        if arm.is_control:
            arms.append(replace(arm, verdict=CONTROL_VERDICT))
            continue
        guardrails = _guardrails(control, arm) if control is not None else ()
        comparison = arm.comparison or Comparison(error="no control arm")
        verdict = arm_verdict(
            lift=comparison.lift,
            p_value_adjusted=comparison.p_value_adjusted,
            comparison_error=comparison.error,
            guardrails=guardrails,
            compliance_failures=arm.compliance_failures,
            readiness=results.readiness,
            sample_ratio_mismatch=results.srm_warning,
        )
        arms.append(replace(arm, guardrails=guardrails, verdict=verdict))
    return replace(results, arms=arms)


def _replace_comparison(arm: ArmResult, **changes) -> ArmResult:
    return replace(arm, comparison=replace(arm.comparison, **changes))


def _timeline(rows: list[tuple[date, int, int]], arm_ids: list[int]) -> list[TimelinePoint]:
    running = dict.fromkeys(arm_ids, 0)
    points: list[TimelinePoint] = []
    for day, arm_id, count in rows:
        if points and points[-1].day == day:
            running[arm_id] = running.get(arm_id, 0) + count
            points[-1] = TimelinePoint(day=day, cumulative=dict(running))
            continue
        running[arm_id] = running.get(arm_id, 0) + count
        points.append(TimelinePoint(day=day, cumulative=dict(running)))
    return points


def _warnings(results: ExperimentResults) -> list[Warning]:
    experiment = results.experiment
    warnings: list[Warning] = []
    if results.phase is None:
        return [Warning("not_started", "This experiment has not been launched yet: no results.")]
    if results.srm_warning:
        warnings.append(
            Warning(
                "srm",
                f"Sample ratio mismatch (p = {results.srm_p_value:.2g}): exposures per arm do not "
                "match the configured weights. Assignment or exposure logging is broken; do not "
                "trust any result below until the cause is found.",
            )
        )
    small = [
        a for a in results.arms if a.weight > 0 and a.exposed < experiment.min_exposures_per_arm
    ]
    if small:
        names = ", ".join(f"{a.variant.key} ({a.exposed})" for a in small)
        warnings.append(
            Warning(
                "sample",
                f"Too few exposed users for reliable results: {names}; the minimum is "
                f"{experiment.min_exposures_per_arm} per arm.",
            )
        )
    if results.plan_error:
        warnings.append(
            Warning("plan", f"The experiment's plan has no answer: {results.plan_error}")
        )
    if results.readiness is not None and not results.readiness.enough:
        warnings.append(
            Warning(
                "not_enough_data",
                f"Not enough data yet: {results.readiness.missing}. Results are shown as they "
                f"come in, but no arm can be shipped until the phase has run at least "
                f"{experiment.min_runtime_days} days (every weekday, and the 7-day reversal "
                "window) and the sample detects the target effect with the planned power.",
            )
        )
    warnings.extend(_health_warnings(results))
    if not experiment.sequential_testing and experiment.is_live:
        warnings.append(
            Warning(
                "peeking",
                "Fixed-horizon p-values are valid only when read once, at the planned end. "
                "Enable sequential testing on the experiment to watch results as they come in.",
            )
        )
    failing = sorted({a.variant.key for a in results.arms if a.fails_compliance})
    if failing:
        warnings.append(
            Warning(
                "compliance",
                "Designs that fail a compliance rule are in this experiment: "
                f"{', '.join(failing)}. They must not be shown in the EU/EEA/UK (see below).",
            )
        )
    return warnings


def _health_warnings(results: ExperimentResults) -> list[Warning]:
    health = results.health
    warnings = []
    if health is None:
        return warnings
    if health.exposed_to_other_arm:
        warnings.append(
            Warning(
                "health_other_arm",
                f"{health.exposed_to_other_arm} exposed user(s) also decided under another arm "
                "of this experiment in this phase: they saw more than one design, so their "
                "answers mix arms.",
            )
        )
    if health.assigned_not_exposed:
        warnings.append(
            Warning(
                "health_not_exposed",
                f"{health.assigned_not_exposed} user(s) were assigned but never shown their "
                "design (not counted in any rate). Many of them point at a rendering or logging "
                "problem on some pages.",
            )
        )
    if health.exposed_before_start:
        warnings.append(
            Warning(
                "health_early",
                f"{health.exposed_before_start} exposure(s) are dated before this phase started: "
                "clocks or exposure logging are wrong.",
            )
        )
    if results.total_exposed:
        idle = results.idle_arms
        if idle:
            warnings.append(
                Warning(
                    "health_zero_traffic",
                    f"{len(idle)} arm(s) with a weight have no exposures: {', '.join(idle)}. "
                    "Check that the design is active and offered on this surface.",
                )
            )
    return warnings


def _plan_for(experiment: Experiment, arm_count: int) -> tuple[Plan | None, str | None]:
    try:
        return experiment_plan(experiment, max(arm_count, 2)), None
    except PlanningError as error:
        return None, str(error)


def experiment_results(
    *, experiment: Experiment, phase_number: int | None = None, now: datetime | None = None
) -> ExperimentResults:
    """Everything the dashboard and the CSV show for one phase (the current one by default)."""
    now = now or timezone.now()
    phases = experiment_phases(experiment)
    number = phase_number or experiment.phase
    phase = next((p for p in phases if p.number == number), None)
    arms = arms_with_counts(experiment=experiment, phase=number)
    arm_ids = [arm.pk for arm in arms]
    findings = {arm.pk: variant_findings(arm.variant) for arm in arms}
    gdpr_audience = audience_includes_gdpr(experiment.countries)
    failures = {
        pk: tuple(f for f in found if f.fails) if gdpr_audience else ()
        for pk, found in findings.items()
    }

    if phase is None:
        results = ExperimentResults(
            experiment=experiment,
            phase=None,
            phases=phases,
            arms=[
                ArmResult(
                    arm=arm,
                    weight=arm.weight,
                    assigned=0,
                    exposed=0,
                    decisions=DecisionCounts(),
                    opt_in_rate=None,
                    opt_in_ci=(0.0, 1.0),
                    comparison=None,
                    findings=findings[arm.pk],
                    compliance_failures=failures[arm.pk],
                )
                for arm in arms
            ],
            srm_p_value=None,
            timeline=[],
            runtime=timedelta(0),
            computed_at=now,
        )
        planned, plan_error = _plan_for(experiment, sum(1 for a in arms if a.weight > 0))
        return _finish(replace(results, plan=planned, plan_error=plan_error))

    decided = decision_counts(experiment=experiment, phase=phase, arm_ids=arm_ids, now=now)
    total_exposed = sum(arm.exposed for arm in arms)
    total_weight = sum(phase.weight_of(pk) for pk in arm_ids) or 1.0
    draft = [
        ArmResult(
            arm=arm,
            weight=phase.weight_of(arm.pk) / total_weight,
            assigned=arm.assigned,
            exposed=arm.exposed,
            decisions=decided[arm.pk],
            opt_in_rate=decided[arm.pk].opt_ins / arm.exposed if arm.exposed else None,
            opt_in_ci=stats.proportion_ci(decided[arm.pk].opt_ins, arm.exposed, alpha=ALPHA),
            comparison=None,
            findings=findings[arm.pk],
            observed_share=arm.exposed / total_exposed if total_exposed else None,
            compliance_failures=failures[arm.pk],
        )
        for arm in arms
    ]
    control = next((a for a in draft if a.is_control), None)
    if control is not None:
        draft = [
            a
            if a.is_control
            else replace(
                a, comparison=_compare(control, a.exposed, a.decisions.opt_ins, experiment)
            )
            for a in draft
        ]
    srm = (
        stats.srm_p_value([a.exposed for a in draft], [a.weight for a in draft])
        if len(draft) >= 2
        else None
    )
    runtime = (phase.ended_at or now) - phase.started_at
    planned, plan_error = _plan_for(experiment, sum(1 for pk in arm_ids if phase.weight_of(pk) > 0))
    results = ExperimentResults(
        experiment=experiment,
        phase=phase,
        phases=phases,
        arms=_with_correction(draft, experiment.p_value_correction),
        srm_p_value=srm,
        timeline=_timeline(exposures_by_day(experiment=experiment, phase=number), arm_ids),
        runtime=runtime,
        computed_at=now,
        plan=planned,
        plan_error=plan_error,
        readiness=Readiness(
            runtime_days=runtime.total_seconds() / 86400,
            min_runtime_days=experiment.min_runtime_days,
            exposed=total_exposed,
            users_needed=planned.users_needed if planned else None,
        ),
        health=phase_health(experiment=experiment, phase=phase, now=now),
    )
    return _finish(_with_verdicts(results))


def _finish(results: ExperimentResults) -> ExperimentResults:
    return replace(results, warnings=_warnings(results))


# --- Breakdowns ------------------------------------------------------------------------------

BREAKDOWN_DIMENSIONS = (
    ("language", "Language (the browser's, from the decision record)"),
    ("country_group", "Country group (the account's country)"),
    ("surface", "Surface"),
    ("device_class", "Device class (from the user agent)"),
)


@dataclass(frozen=True)
class BreakdownCell:
    decided: int
    opt_ins: int

    @property
    def opt_in_rate(self) -> float | None:
        return self.opt_ins / self.decided if self.decided else None


@dataclass(frozen=True)
class BreakdownRow:
    value: str
    cells: list[BreakdownCell]  # one per arm, in the results' arm order


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    rows: list[BreakdownRow]


def _language(locale: str | None) -> str:
    """The primary language subtag ("de-AT" and "de_DE" are "de"); blank is unknown."""
    primary = (locale or "").replace("_", "-").split("-")[0].strip()
    return primary or "unknown"


def experiment_breakdowns(results: ExperimentResults) -> list[Breakdown]:
    """Opt-in rate among deciders per arm, by each dimension; descriptive, never tested.

    Users who did not decide have no record, so no language or device: every
    breakdown counts deciders, and its rate is opt-ins / decided (not / exposed).
    """
    if results.phase is None:
        return []
    rows = breakdown_rows(
        experiment=results.experiment,
        phase=results.phase,
        now=results.computed_at,
        gdpr_countries=GDPR_COUNTRIES,
    )
    surfaces = dict(ConsentRecord.surface.field.choices)
    value_of = {
        "language": lambda row: _language(row["locale"]),
        "country_group": lambda row: row["country_group"],
        "surface": lambda row: surfaces.get(row["record_surface"], row["record_surface"]),
        "device_class": lambda row: row["device_class"],
    }
    arm_ids = [arm.arm.pk for arm in results.arms]
    breakdowns = []
    for key, title in BREAKDOWN_DIMENSIONS:
        totals: dict[str, dict[int, list[int]]] = {}
        for row in rows:
            cell = totals.setdefault(value_of[key](row), {}).setdefault(row["arm_id"], [0, 0])
            cell[0] += row["decided"]
            cell[1] += row["opt_ins"]
        breakdowns.append(
            Breakdown(
                key=key,
                title=title,
                rows=[
                    BreakdownRow(
                        value=value,
                        cells=[BreakdownCell(*per_arm.get(pk, [0, 0])) for pk in arm_ids],
                    )
                    for value, per_arm in sorted(totals.items())
                ],
            )
        )
    return breakdowns
