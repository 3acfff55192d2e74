"""Product-team pages: the experiment list, one experiment's dashboard, and its CSV.

Analysts see aggregates only (DESIGN §4 rule 6): nothing here reads a
conversation or shows a single user's record.
"""

import csv

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .analysis import ExperimentResults, experiment_breakdowns, experiment_results
from .charts import exposures_chart, opt_in_chart
from .compliance import RULES
from .decisions import GUARDRAILS
from .models import Arm, Experiment
from .selectors import experiments_for_results, ship_decision_for

RESULTS_PERMISSION = "experiments.view_results"


def results_view(view):
    """Analysts only: anonymous users go to login, signed-in users without the permission get 403.

    Open past the consent gate (listed in consent.gate.GATE_ALLOW_LIST): analysts read
    these pages as operators of the product, not as its users, so an analyst who has not
    answered the training question themselves is not sent to the decision screen (the
    same reason the gate lets the admin through).
    """

    gated = permission_required(RESULTS_PERMISSION, raise_exception=True)(require_GET(view))
    return login_required(gated)


def _phase_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("phase", "")
    return int(raw) if raw.isdigit() else None


def _results(request: HttpRequest, key: str) -> ExperimentResults:
    experiment = get_object_or_404(Experiment, key=key)
    number = _phase_number(request)
    if number is not None and not experiment.phases.filter(number=number).exists():
        raise Http404("This experiment has no such phase.")
    return experiment_results(experiment=experiment, phase_number=number)


@results_view
def experiment_list(request: HttpRequest) -> HttpResponse:
    return render(request, "experiments/list.html", {"experiments": experiments_for_results()})


@results_view
def dashboard(request: HttpRequest, key: str) -> HttpResponse:
    results = _results(request, key)
    context = {
        "results": results,
        "experiment": results.experiment,
        "rate_chart": opt_in_chart(results),
        "exposure_chart": exposures_chart(results),
        "rules": RULES,
        "breakdowns": experiment_breakdowns(results),
        "guardrails": GUARDRAILS,
        "plan_days": _plan_days(results),
        "ship_decision": ship_decision_for(results.experiment),
    }
    return render(request, "experiments/dashboard.html", context)


def _plan_days(results: ExperimentResults) -> list[dict]:
    """Power at the target MDE and the MDE at the planned power, week by week (GrowthBook's table)."""
    planned = results.plan
    if planned is None:
        return []
    days = sorted({7, 14, 21, 28, planned.days_needed or 0} - {0})
    return [
        {"days": d, "power": planned.power_after(d), "mde": planned.mde_after(d)}
        for d in days
        if d <= 366
    ]


@results_view
def design_preview(request: HttpRequest, key: str, arm_id: int) -> HttpResponse:
    """A read-only rendering of one arm's design, from the design's fields as they are now.

    Not the proof of what a person saw (that is the served notice's stored dialog,
    issue 12): a design edited after the experiment renders its new copy here.
    """
    arm = get_object_or_404(
        Arm.objects.select_related("experiment", "variant"), pk=arm_id, experiment__key=key
    )
    return render(
        request,
        "experiments/design_preview.html",
        {"arm": arm, "experiment": arm.experiment, "variant": arm.variant},
    )


CSV_COLUMNS = [
    "experiment",
    "phase",
    "arm",
    "design",
    "is_control",
    "weight",
    "assigned",
    "exposed",
    "decided",
    "opt_ins",
    "opt_in_rate",
    "opt_in_ci_low",
    "opt_in_ci_high",
    "lift",
    "lift_ci_low",
    "lift_ci_high",
    "p_value",
    "p_value_adjusted",
    "chance_to_win",
    "risk",
    "toggle_touched",
    "toggle_touched_rate",
    "learn_more_opened",
    "learn_more_rate",
    "median_seconds_to_decide",
    "winsorized_mean_seconds_to_decide",
    "opt_ins_7_days_old",
    "reversals_7_days",
    "reversal_rate",
    "quick_decisions",
    "verdict",
    "srm_p_value",
]


def _cell(value) -> str:
    """Numbers as plain text; text that a spreadsheet would run as a formula is defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(results: ExperimentResults):
    phase = results.phase.number if results.phase else ""
    for arm in results.arms:
        comparison = arm.comparison
        decisions = arm.decisions
        yield [
            results.experiment.key,
            phase,
            arm.arm.pk,
            arm.variant.key,
            arm.is_control,
            arm.weight,
            arm.assigned,
            arm.exposed,
            decisions.decided,
            decisions.opt_ins,
            arm.opt_in_rate,
            arm.opt_in_ci[0],
            arm.opt_in_ci[1],
            comparison.lift if comparison else None,
            comparison.lift_ci[0] if comparison and comparison.lift_ci else None,
            comparison.lift_ci[1] if comparison and comparison.lift_ci else None,
            comparison.p_value if comparison else None,
            comparison.p_value_adjusted if comparison else None,
            comparison.chance_to_win if comparison else None,
            comparison.risk_treatment if comparison else None,
            decisions.toggle_touched if arm.variant.has_toggle else None,
            arm.toggle_touched_rate,
            decisions.learn_more_opened,
            arm.learn_more_rate,
            decisions.median_seconds,
            decisions.winsorized_mean_seconds,
            decisions.opt_ins_matured,
            decisions.reversals,
            arm.reversal_rate,
            decisions.quick_decisions,
            arm.verdict.label if arm.verdict else None,
            results.srm_p_value,
        ]


@results_view
def results_csv(request: HttpRequest, key: str) -> HttpResponse:
    results = _results(request, key)
    phase = f"-phase{results.phase.number}" if results.phase else ""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{results.experiment.key}{phase}-results.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in _csv_rows(results):
        writer.writerow([_cell(value) for value in row])
    return response
