"""Shipping a winning design: the end of an experiment, through the decision rule and the lint.

A module of its own because it writes through ``consent.services`` (the default
design), and ``consent.services`` already imports ``experiments.services`` for
``choose_variant``: keeping this out of ``experiments.services`` keeps the imports
one-way.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from consent.services import variant_make_default

from . import errors
from .analysis import experiment_results
from .compliance import failing_findings
from .models import Arm, Experiment, ShipDecision
from .services import experiment_lock, experiment_stop

logger = logging.getLogger(__name__)


@transaction.atomic
def experiment_ship(
    *, experiment: Experiment, arm: Arm, decided_by, reason: str, now: datetime | None = None
) -> ShipDecision:
    """Make a winning arm's design the default, stop the experiment, and record the decision.

    Refused (ValidationError, nothing changed) unless the arm's verdict under
    ``experiments.decisions.arm_verdict`` is "ship" at this moment, and unless the
    design passes the compliance lint everywhere: a default design reaches every
    country, so the EU/EEA/UK rules apply whatever the experiment's audience was.
    """
    now = now or timezone.now()
    experiment = experiment_lock(experiment)
    if not experiment.is_live:
        raise ValidationError(
            errors.NOT_SHIPPABLE.format(status=experiment.get_status_display().lower()),
            code="not_shippable",
        )
    if arm.experiment_id != experiment.pk:
        raise ValidationError(errors.ARM_NOT_IN_EXPERIMENT, code="arm_not_in_experiment")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(errors.SHIP_REASON_REQUIRED, code="reason_required")
    results = experiment_results(experiment=experiment, now=now)
    result = next(a for a in results.arms if a.arm.pk == arm.pk)
    if result.verdict is None or not result.verdict.ships:
        raise ValidationError(
            errors.NOT_A_WINNER.format(
                variant=result.variant.key,
                verdict=result.verdict.label if result.verdict else "no results",
            ),
            code="not_a_winner",
        )
    variant = result.variant
    for finding in failing_findings(variant):
        raise ValidationError(
            errors.DEFAULT_FAILS_LINT.format(
                variant=variant.key, rule=finding.rule.title, citation=finding.rule.citation
            ),
            code=finding.rule.code,
        )
    variant_make_default(variant)
    experiment_stop(experiment=experiment, now=now)
    comparison = result.comparison
    decision = ShipDecision.objects.create(
        experiment=experiment,
        arm=result.arm,
        variant=variant,
        phase=results.phase.number,
        decided_by=decided_by,
        decided_at=now,
        reason=reason,
        verdict={
            "verdict": result.verdict.label,
            "exposed": result.exposed,
            "opt_in_rate": result.opt_in_rate,
            "control_opt_in_rate": results.control.opt_in_rate if results.control else None,
            "lift": comparison.lift,
            "p_value": comparison.p_value,
            "p_value_adjusted": comparison.p_value_adjusted,
            "correction": experiment.p_value_correction,
            "guardrails": {
                g.guardrail.key: {
                    "arm_rate": g.arm_rate,
                    "control_rate": g.control_rate,
                    "p_value": g.p_value,
                }
                for g in result.guardrails
            },
            "runtime_days": results.runtime_days,
            "users_needed": results.readiness.users_needed,
        },
    )
    logger.info(
        "experiment design shipped",
        extra={"experiment": experiment.key, "variant": variant.key, "by": decided_by.pk},
    )
    return decision
