"""Writes for experiments: the lifecycle, assignment and exposure.

``choose_variant`` is the one function consent calls (DESIGN §2), with
``exposure_record`` right after it when the design is rendered and
``arm_offered`` when a posted form names an arm. Consent reaches them through
``consent.designs.design_source()``: this module is registered there as the design
source (``experiments.designs``), so the import points from experiments to consent only.

Assignment is GrowthBook's: a user's arm is ``assign_arm`` over the phase's seed,
weights and the experiment's coverage, with ``str(user.pk)`` as the hash
attribute, so a GrowthBook SDK given ``{"id": str(user.pk)}`` and the same seed,
weights and coverage picks the same arm. Users outside coverage see the default
design and are neither assigned nor exposed, so they are not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from consent.designs import VariantChoice, default_choice
from consent.models import ModalVariant

from . import errors
from .compliance import audience_includes_gdpr, failing_findings
from .hashing import assign_arm
from .models import (
    Arm,
    Assignment,
    Audience,
    Experiment,
    ExperimentPhase,
    ExperimentStatus,
    ExperimentSurface,
    Exposure,
)
from .selectors import running_experiment_for, running_experiments_memo

logger = logging.getLogger(__name__)


def choose_variant(user, surface: str) -> VariantChoice:
    """The design to show this user on this surface: their arm's, or the default.

    The first call in a phase assigns the user (sticky: later calls return the
    same arm, whatever happens to weights or coverage, until a new phase starts).
    A user who has left the audience (say, changed country) sees the default.
    """
    if not getattr(user, "is_authenticated", False):
        return default_choice(user, surface)
    experiment = running_experiment_for(user=user, surface=surface)
    if experiment is None:
        return default_choice(user, surface)
    arm = _assigned_arm(experiment=experiment, user=user)
    if arm is None or not arm.variant.offered_on(surface):
        return default_choice(user, surface)
    return VariantChoice(variant=arm.variant, arm=arm, phase=experiment.phase)


def _assigned_arm(*, experiment: Experiment, user) -> Arm | None:
    existing = (
        Assignment.objects.filter(experiment=experiment, user=user, phase=experiment.phase)
        .select_related("arm__variant")
        .first()
    )
    if existing is not None:
        return existing.arm
    phase = ExperimentPhase.objects.select_related("experiment").get(
        experiment=experiment, number=experiment.phase
    )
    live = phase.experiment
    if live.status != ExperimentStatus.RUNNING or live.phase != phase.number:
        # This process's memo of running experiments predates a pause, stop or new phase
        # made elsewhere: assign nobody into it, and load the list afresh next time.
        running_experiments_memo.forget()
        return None
    arms = list(experiment.arms.select_related("variant"))
    index = assign_arm(
        seed=phase.seed,
        user_key=str(user.pk),
        weights=[phase.weight_of(arm.pk) for arm in arms],
        coverage=experiment.coverage,
        hash_version=experiment.hash_version,
    )
    if index is None:
        return None
    assignment, _ = Assignment.objects.get_or_create(
        experiment=experiment,
        user=user,
        phase=experiment.phase,
        defaults={"arm": arms[index], "assigned_at": timezone.now()},
    )
    # A concurrent request may have won the insert; with the same hash it chose the same arm.
    return arms[index] if assignment.arm_id == arms[index].pk else assignment.arm


def exposure_record(*, user, choice: VariantChoice) -> Exposure | None:
    """Note that the design was rendered to the user: once per experiment and phase.

    Called by the consent screens as they render; outside an experiment (no arm)
    nothing is written, and no transaction is opened for nothing.
    """
    if choice.arm is None:
        return None
    return _exposure_write(user=user, choice=choice)


@transaction.atomic
def _exposure_write(*, user, choice: VariantChoice) -> Exposure:
    phase = choice.phase
    if phase is None:
        phase = Experiment.objects.values_list("phase", flat=True).get(pk=choice.arm.experiment_id)
    exposure, _ = Exposure.objects.get_or_create(
        experiment_id=choice.arm.experiment_id,
        user=user,
        phase=phase,
        defaults={"arm": choice.arm, "exposed_at": timezone.now()},
    )
    return exposure


def arm_offered(user, arm: Arm) -> bool:
    """Whether this arm was really given to this user (in any phase of its experiment).

    Consent calls it for the arm named in a posted form, so a forged arm id for an
    experiment the user is not in is refused. ``user`` may be a user or its pk.
    A form rendered just before a phase change or a stop stays valid: the arm
    was genuinely shown.
    """
    user_id = getattr(user, "pk", user)
    return Assignment.objects.filter(user_id=user_id, arm=arm).exists()


# --- Lifecycle ---------------------------------------------------------------------------


def _validate_arms(experiment: Experiment, arms: list[Arm], weights: Mapping[int, float]) -> None:
    if len(arms) < 2:
        raise ValidationError(errors.TOO_FEW_ARMS, code="too_few_arms")
    controls = [arm for arm in arms if arm.is_control]
    if len(controls) != 1:
        raise ValidationError(errors.ONE_CONTROL, code="one_control")
    if any(weights[arm.pk] < 0 for arm in arms):
        raise ValidationError(errors.NEGATIVE_WEIGHT, code="negative_weight")
    if weights[controls[0].pk] <= 0:
        raise ValidationError(errors.CONTROL_WEIGHT, code="control_weight")
    if not any(weights[arm.pk] > 0 for arm in arms if not arm.is_control):
        raise ValidationError(errors.NO_TREATMENT_WEIGHT, code="no_treatment_weight")
    for arm in arms:
        if not arm.variant.offered_on(experiment.surface):
            raise ValidationError(
                errors.VARIANT_NOT_OFFERED.format(
                    variant=arm.variant.key, surface=experiment.get_surface_display()
                ),
                code="variant_not_offered",
            )


def _validate_audience(experiment: Experiment) -> None:
    for code in experiment.countries:
        if not isinstance(code, str) or len(code) != 2 or not code.isalpha() or not code.isupper():
            raise ValidationError(errors.BAD_COUNTRY.format(code=code), code="bad_country")


def _audiences_overlap(a: Experiment, b: Experiment) -> bool:
    if Audience.ALL not in (a.audience, b.audience) and a.audience != b.audience:
        return False
    if not a.countries or not b.countries:
        return True
    return bool(set(a.countries) & set(b.countries))


def _validate_no_overlap(experiment: Experiment) -> None:
    # Row locks on every experiment of the surface, in pk order: two launches racing
    # for the same surface serialise here instead of both passing the check.
    others = list(
        Experiment.objects.select_for_update()
        .filter(surface=experiment.surface)
        .exclude(pk=experiment.pk)
        .order_by("pk")
    )
    for other in others:
        if other.status == ExperimentStatus.RUNNING and _audiences_overlap(experiment, other):
            raise ValidationError(
                errors.OVERLAPPING_EXPERIMENT.format(
                    other=other.key, surface=experiment.get_surface_display()
                ),
                code="overlapping_experiment",
            )


def _validate_compliance(experiment: Experiment, arms: list[Arm]) -> None:
    if not audience_includes_gdpr(experiment.countries):
        return
    for arm in arms:
        for finding in failing_findings(arm.variant):
            raise ValidationError(
                errors.NONCOMPLIANT_DESIGN.format(
                    variant=arm.variant.key, rule=finding.rule.title, citation=finding.rule.citation
                ),
                code=finding.rule.code,
            )


def variant_copy_validate_for_experiments(variant: ModalVariant) -> None:
    """Refuse new copy for a design that a live experiment shows to the EU/EEA/UK if it fails the lint.

    ``variant`` carries the edited, unsaved fields (the ModalVariant admin form calls this).
    """
    live = Experiment.objects.filter(
        arms__variant_id=variant.pk,
        status__in=[ExperimentStatus.RUNNING, ExperimentStatus.PAUSED],
    ).distinct()
    for experiment in live:
        if not audience_includes_gdpr(experiment.countries):
            continue
        for finding in failing_findings(variant):
            raise ValidationError(
                errors.LIVE_DESIGN_FAILS_LINT.format(
                    variant=variant.key,
                    experiment=experiment.key,
                    rule=finding.rule.title,
                    citation=finding.rule.citation,
                ),
                code=finding.rule.code,
            )


def experiment_validate_launch(*, experiment: Experiment) -> None:
    """Everything a launch (or resume) checks, without changing anything. Raises ValidationError."""
    if experiment.surface not in ExperimentSurface.values:
        raise ValidationError(
            errors.VARIANT_NOT_OFFERED.format(variant="-", surface=experiment.surface),
            code="bad_surface",
        )
    arms = list(experiment.arms.select_related("variant"))
    if experiment.is_live:
        phase = ExperimentPhase.objects.get(experiment=experiment, number=experiment.phase)
        weights = {arm.pk: phase.weight_of(arm.pk) for arm in arms}
    else:
        weights = {arm.pk: arm.weight for arm in arms}
    _validate_arms(experiment, arms, weights)
    _validate_audience(experiment)
    _validate_compliance(experiment, arms)
    _validate_no_overlap(experiment)


def experiment_lock(experiment: Experiment) -> Experiment:
    """Lock the row, then reload the caller's instance, so it sees (and keeps) the new state."""
    Experiment.objects.select_for_update().filter(pk=experiment.pk).values_list("pk").get()
    experiment.refresh_from_db()
    return experiment


@transaction.atomic
def experiment_launch(*, experiment: Experiment, now: datetime | None = None) -> Experiment:
    """Start a draft (phase 1 freezes its weights) or resume a paused experiment.

    Refused with a ValidationError when the arms are malformed, another running
    experiment covers an overlapping audience on the same surface, or a design
    fails a compliance rule while the audience includes the EU/EEA/UK.
    """
    now = now or timezone.now()
    experiment = experiment_lock(experiment)
    if experiment.status not in (ExperimentStatus.DRAFT, ExperimentStatus.PAUSED):
        raise ValidationError(
            errors.NOT_LAUNCHABLE.format(status=experiment.get_status_display().lower()),
            code="not_launchable",
        )
    experiment_validate_launch(experiment=experiment)
    fields = ["status"]
    if experiment.status == ExperimentStatus.DRAFT:
        if not experiment.hash_seed:
            experiment.hash_seed = experiment.key
        ExperimentPhase.objects.create(
            experiment=experiment,
            number=experiment.phase,
            seed=experiment.hash_seed,
            weights={str(arm.pk): arm.weight for arm in experiment.arms.all()},
            coverage=experiment.coverage,
            reason="Launched",
            started_at=now,
        )
        experiment.starts_at = now
        fields += ["hash_seed", "starts_at"]
    experiment.status = ExperimentStatus.RUNNING
    experiment.save(update_fields=fields)
    logger.info(
        "experiment launched", extra={"experiment": experiment.key, "phase": experiment.phase}
    )
    return experiment


@transaction.atomic
def experiment_pause(*, experiment: Experiment) -> Experiment:
    """Stop showing the arms (everyone sees the default) while keeping the phase open."""
    experiment = experiment_lock(experiment)
    if experiment.status != ExperimentStatus.RUNNING:
        raise ValidationError(
            errors.NOT_PAUSABLE.format(status=experiment.get_status_display().lower()),
            code="not_pausable",
        )
    experiment.status = ExperimentStatus.PAUSED
    experiment.save(update_fields=["status"])
    return experiment


@transaction.atomic
def experiment_stop(*, experiment: Experiment, now: datetime | None = None) -> Experiment:
    """End the experiment for good; its results freeze at this moment."""
    now = now or timezone.now()
    experiment = experiment_lock(experiment)
    if not experiment.is_live:
        raise ValidationError(
            errors.NOT_STOPPABLE.format(status=experiment.get_status_display().lower()),
            code="not_stoppable",
        )
    ExperimentPhase.objects.filter(
        experiment=experiment, number=experiment.phase, ended_at__isnull=True
    ).update(ended_at=now)
    experiment.status = ExperimentStatus.STOPPED
    experiment.ends_at = now
    experiment.save(update_fields=["status", "ends_at"])
    return experiment


@transaction.atomic
def experiment_weights_change(
    *, experiment: Experiment, weights: Mapping[int, float], now: datetime | None = None
) -> ExperimentPhase:
    """New weights for a live experiment: a new phase with a new seed, analysed on its own.

    Re-randomising (GrowthBook's "new phase, re-randomize traffic") rather than
    moving only some users keeps the phase's arms comparable; the old phase's
    assignments, exposures and results stay as they were. Unchanged weights
    start nothing and return the current phase.
    """
    now = now or timezone.now()
    experiment = experiment_lock(experiment)
    if not experiment.is_live:
        raise ValidationError(
            errors.NOT_LIVE.format(status=experiment.get_status_display().lower()), code="not_live"
        )
    arms = list(experiment.arms.select_related("variant"))
    known = {arm.pk for arm in arms}
    unknown = set(weights) - known
    if unknown:
        raise ValidationError(errors.UNKNOWN_ARM.format(arm=sorted(unknown)[0]), code="unknown_arm")
    current = ExperimentPhase.objects.get(experiment=experiment, number=experiment.phase)
    new_weights = {arm.pk: float(weights.get(arm.pk, current.weight_of(arm.pk))) for arm in arms}
    _validate_arms(experiment, arms, new_weights)
    if all(new_weights[pk] == current.weight_of(pk) for pk in known):
        return current

    current.ended_at = now
    current.save(update_fields=["ended_at"])
    number = experiment.phase + 1
    phase = ExperimentPhase.objects.create(
        experiment=experiment,
        number=number,
        seed=f"{experiment.seed}-phase{number}",
        weights={str(pk): weight for pk, weight in new_weights.items()},
        coverage=experiment.coverage,
        reason="Weights changed",
        started_at=now,
    )
    for arm in arms:
        if arm.weight != new_weights[arm.pk]:
            arm.weight = new_weights[arm.pk]
            arm.save(update_fields=["weight"])
    experiment.phase = number
    experiment.save(update_fields=["phase"])
    logger.info("experiment phase started", extra={"experiment": experiment.key, "phase": number})
    return phase
