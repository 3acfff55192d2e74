"""Reads for experiments: who is in which experiment, and the per-arm counts behind the dashboard.

Every count is one SQL aggregation over the phase (conditional ``Count`` with
``filter=Q(...)`` per arm), never a Python loop over users; the number of
queries does not grow with the number of arms or users. The analysis rules the
counts follow are spelled out in ``experiments.analysis``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower, RowNumber, TruncDate

from config.memo import ProcessMemo
from consent.models import Choice, ConsentRecord, Policy
from consent.selectors import current_policy, policy_basis

from .decisions import QUICK_DECISION_SECONDS
from .models import (
    Arm,
    Assignment,
    Audience,
    Experiment,
    ExperimentPhase,
    ExperimentStatus,
    Exposure,
    ShipDecision,
)

REVERSAL_WINDOW = timedelta(days=7)
QUICK_DECISION = timedelta(seconds=QUICK_DECISION_SECONDS)
# Time to decide is summarised by its median and by its mean with everything above
# the 99th percentile pulled down to it (winsorised), so a tab left open for a
# weekend cannot dominate the mean.
WINSOR_PERCENT = 99

# The exposure -> user -> consent records join the decision metrics are computed over.
_RECORD = "user__consent_records"


def audience_includes(*, experiment: Experiment, user, policy: Policy | None = None) -> bool:
    """Whether the user belongs to the experiment's audience.

    New users joined on or after the current policy's ``effective_at`` (the gate's
    own rule for the first-login screen); existing users joined before it. With
    a country list, a user whose country is unknown is not in the audience.
    """
    if experiment.countries and (user.country or "").upper() not in experiment.countries:
        return False
    if experiment.audience == Audience.ALL:
        return True
    policy = policy or current_policy()
    if policy is None:
        return False
    # The gate's rule: new since the decision basis (an editorial version makes nobody new).
    is_new = user.date_joined >= policy_basis(policy).material.effective_at
    return is_new if experiment.audience == Audience.NEW_USERS else not is_new


# Every consent screen asks which experiment is running on its surface; the answer changes
# a few times a month. Each process keeps the running experiments for a minute, as
# GrowthBook's SDKs cache their feature definitions (60 s by default); a launch, pause,
# stop or phase change made in this process clears it at once (experiments.apps).
running_experiments_memo = ProcessMemo(
    "running-experiments",
    lambda: list(
        Experiment.objects.filter(status=ExperimentStatus.RUNNING).order_by("starts_at", "pk")
    ),
)


def running_experiment_for(*, user, surface: str) -> Experiment | None:
    """The running experiment on this surface whose audience includes the user, if any.

    Launch validation keeps running audiences on one surface from overlapping, so
    at most one matches; the oldest wins should that ever be violated.
    """
    candidates = [e for e in running_experiments_memo.get() if e.surface == surface]
    if not candidates:
        return None
    policy = None
    if any(e.audience != Audience.ALL for e in candidates):
        policy = current_policy()
    for experiment in candidates:
        if audience_includes(experiment=experiment, user=user, policy=policy):
            return experiment
    return None


def experiments_for_results() -> QuerySet[Experiment]:
    """Every experiment, newest first, with its current phase's exposure count."""
    exposed = (
        Exposure.objects.filter(experiment=OuterRef("pk"), phase=OuterRef("phase"))
        .order_by()
        .values("experiment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Experiment.objects.annotate(
        arm_count=Count("arms"), exposed=Coalesce(Subquery(exposed), 0)
    ).order_by("-created_at")


def experiment_phases(experiment: Experiment) -> list[ExperimentPhase]:
    return list(experiment.phases.order_by("number"))


def arms_with_counts(*, experiment: Experiment, phase: int) -> list[Arm]:
    """The arms with ``assigned`` and ``exposed`` user counts for one phase (one query)."""

    def per_arm(model):
        return (
            model.objects.filter(experiment=experiment, phase=phase, arm=OuterRef("pk"))
            .order_by()
            .values("arm")
            .annotate(n=Count("pk"))
            .values("n")
        )

    return list(
        experiment.arms.select_related("variant")
        .order_by("position", "pk")
        .annotate(
            assigned=Coalesce(Subquery(per_arm(Assignment)), 0),
            exposed=Coalesce(Subquery(per_arm(Exposure)), 0),
        )
    )


@dataclass(frozen=True)
class DecisionCounts:
    """One arm's first decisions after exposure (see ``experiments.analysis`` for the rules)."""

    decided: int = 0
    opt_ins: int = 0
    toggle_touched: int = 0
    learn_more_opened: int = 0
    opt_ins_matured: int = 0
    reversals: int = 0
    quick_decisions: int = 0
    median_seconds: float | None = None
    winsorized_mean_seconds: float | None = None


def _first_decision_rows(
    *, experiment: Experiment, phase: ExperimentPhase, now: datetime
) -> QuerySet:
    """Exposures joined to each exposed user's first decision in the phase (no window columns)."""
    window_end = phase.ended_at or now
    surface = experiment.surface
    earlier = ConsentRecord.objects.filter(
        user=OuterRef("user"),
        surface=surface,
        decided_at__gte=OuterRef("exposed_at"),
        decided_at__lt=window_end,
    ).filter(
        Q(decided_at__lt=OuterRef("decided_at"))
        | Q(decided_at=OuterRef("decided_at"), id__lt=OuterRef("record_id"))
    )
    return (
        Exposure.objects.filter(experiment=experiment, phase=phase.number)
        .filter(
            **{
                f"{_RECORD}__surface": surface,
                f"{_RECORD}__decided_at__gte": F("exposed_at"),
                f"{_RECORD}__decided_at__lt": window_end,
            }
        )
        .annotate(
            record_id=F(f"{_RECORD}__id"),
            decided_at=F(f"{_RECORD}__decided_at"),
            choice=F(f"{_RECORD}__choice"),
            toggle_touched=F(f"{_RECORD}__toggle_touched"),
            learn_more_opened=F(f"{_RECORD}__learn_more_opened"),
            time_to_decide=ExpressionWrapper(
                F(f"{_RECORD}__decided_at") - F(f"{_RECORD}__shown_at"),
                output_field=DurationField(),
            ),
        )
        .filter(~Exists(earlier))
    )


def first_decisions(*, experiment: Experiment, phase: ExperimentPhase, now: datetime) -> QuerySet:
    """One row per exposed user who decided: their first decision on the experiment's surface
    made after their exposure and before the phase ended.

    Rows are exposures joined to that user's records; "first" is "no earlier
    such record" (ties on the timestamp broken by record id), which the database
    answers as an anti-join.
    """
    matured_before = now - REVERSAL_WINDOW
    reversed_within_window = ConsentRecord.objects.filter(
        user=OuterRef("user"),
        choice=Choice.OPT_OUT,
        decided_at__gt=OuterRef("decided_at"),
        decided_at__lte=ExpressionWrapper(
            OuterRef("decided_at") + Value(REVERSAL_WINDOW), output_field=DateTimeField()
        ),
    )
    return _first_decision_rows(experiment=experiment, phase=phase, now=now).annotate(
        # Only matured opt-ins are looked up: the guard keeps the probe off every other row.
        reversed=Case(
            When(
                choice=Choice.OPT_IN,
                decided_at__lte=matured_before,
                then=Exists(reversed_within_window),
            ),
            default=Value(False),
        ),
        speed_rank=Window(
            RowNumber(),
            partition_by=[F("arm_id")],
            order_by=[F("time_to_decide").asc(), F("record_id").asc()],
        ),
        arm_decided=Window(Count("pk"), partition_by=[F("arm_id")]),
    )


def _rank(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=IntegerField())


def _seconds(value) -> float | None:
    """A duration aggregate as seconds (PostgreSQL gives a timedelta, SQLite may give microseconds)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000


def decision_counts(
    *, experiment: Experiment, phase: ExperimentPhase, arm_ids: list[int], now: datetime
) -> dict[int, DecisionCounts]:
    """Per-arm decision metrics for the phase, in one aggregate query."""
    if not arm_ids:
        return {}
    n = F("arm_decided")
    median_low = _rank((n + 1) / 2)
    median_high = _rank((n + 2) / 2)
    winsor_rank = _rank((n * WINSOR_PERCENT + (100 - 1)) / 100)  # ceil(n * 0.99) in integers
    matured_before = now - REVERSAL_WINDOW
    aggregates = {}
    for arm_id in arm_ids:
        on_arm = Q(arm_id=arm_id)
        opted_in = on_arm & Q(choice=Choice.OPT_IN)
        aggregates |= {
            f"decided_{arm_id}": Count("pk", filter=on_arm),
            f"opt_ins_{arm_id}": Count("pk", filter=opted_in),
            f"toggle_touched_{arm_id}": Count("pk", filter=on_arm & Q(toggle_touched=True)),
            f"learn_more_{arm_id}": Count("pk", filter=on_arm & Q(learn_more_opened=True)),
            f"matured_{arm_id}": Count("pk", filter=opted_in & Q(decided_at__lte=matured_before)),
            f"reversals_{arm_id}": Count(
                "pk", filter=opted_in & Q(decided_at__lte=matured_before, reversed=True)
            ),
            f"quick_{arm_id}": Count("pk", filter=on_arm & Q(time_to_decide__lt=QUICK_DECISION)),
            f"median_low_{arm_id}": Max("time_to_decide", filter=on_arm & Q(speed_rank=median_low)),
            f"median_high_{arm_id}": Max(
                "time_to_decide", filter=on_arm & Q(speed_rank=median_high)
            ),
            f"winsor_cap_{arm_id}": Max(
                "time_to_decide", filter=on_arm & Q(speed_rank=winsor_rank)
            ),
            f"winsor_sum_{arm_id}": Sum(
                "time_to_decide", filter=on_arm & Q(speed_rank__lte=winsor_rank)
            ),
        }
    row = first_decisions(experiment=experiment, phase=phase, now=now).aggregate(**aggregates)

    counts = {}
    for arm_id in arm_ids:
        decided = row[f"decided_{arm_id}"]
        median = winsorized_mean = None
        if decided:
            low, high = (
                _seconds(row[f"median_low_{arm_id}"]),
                _seconds(row[f"median_high_{arm_id}"]),
            )
            median = (low + high) / 2
            kept = -(-decided * WINSOR_PERCENT // 100)
            cap = _seconds(row[f"winsor_cap_{arm_id}"])
            winsorized_mean = (
                _seconds(row[f"winsor_sum_{arm_id}"]) + (decided - kept) * cap
            ) / decided
        counts[arm_id] = DecisionCounts(
            decided=decided,
            opt_ins=row[f"opt_ins_{arm_id}"],
            toggle_touched=row[f"toggle_touched_{arm_id}"],
            learn_more_opened=row[f"learn_more_{arm_id}"],
            opt_ins_matured=row[f"matured_{arm_id}"],
            reversals=row[f"reversals_{arm_id}"],
            quick_decisions=row[f"quick_{arm_id}"],
            median_seconds=median,
            winsorized_mean_seconds=winsorized_mean,
        )
    return counts


def exposures_by_day(*, experiment: Experiment, phase: int) -> list[tuple[date, int, int]]:
    """(day, arm id, exposures that day) for the phase, oldest first."""
    rows = (
        Exposure.objects.filter(experiment=experiment, phase=phase)
        .annotate(day=TruncDate("exposed_at"))
        .order_by()
        .values("day", "arm_id")
        .annotate(n=Count("pk"))
        .order_by("day", "arm_id")
    )
    return [(row["day"], row["arm_id"], row["n"]) for row in rows]


# --- Health checks beside the sample-ratio test --------------------------------------------


@dataclass(frozen=True)
class PhaseHealth:
    """Counts that should be zero in a healthy phase (GrowthBook's health tab, for this app)."""

    exposed_to_other_arm: int = 0  # saw their arm, then decided under another arm of this test
    assigned_not_exposed: int = 0
    exposed_before_start: int = 0


def phase_health(*, experiment: Experiment, phase: ExperimentPhase, now: datetime) -> PhaseHealth:
    """The phase's health counts in one query (three counting subqueries)."""
    window_end = phase.ended_at or now
    exposures = Exposure.objects.filter(experiment=experiment, phase=phase.number)
    other_arm = ConsentRecord.objects.filter(
        user=OuterRef("user"),
        arm__experiment=experiment,
        decided_at__gte=phase.started_at,
        decided_at__lt=window_end,
    ).exclude(arm=OuterRef("arm"))
    exposed = Exposure.objects.filter(
        experiment=experiment, phase=phase.number, user=OuterRef("user")
    )

    def count(queryset) -> Subquery:
        return Subquery(
            queryset.order_by()
            .annotate(one=Value(1))
            .values("one")
            .annotate(n=Count("pk"))
            # Grouping by a constant gives one row with the count (or none: Coalesce).
            .values("n")
        )

    row = (
        ExperimentPhase.objects.filter(pk=phase.pk)
        .annotate(
            other_arm=Coalesce(count(exposures.filter(Exists(other_arm))), 0),
            not_exposed=Coalesce(
                count(
                    Assignment.objects.filter(experiment=experiment, phase=phase.number).filter(
                        ~Exists(exposed)
                    )
                ),
                0,
            ),
            early=Coalesce(count(exposures.filter(exposed_at__lt=phase.started_at)), 0),
        )
        .values("other_arm", "not_exposed", "early")
        .get()
    )
    return PhaseHealth(
        exposed_to_other_arm=row["other_arm"],
        assigned_not_exposed=row["not_exposed"],
        exposed_before_start=row["early"],
    )


# --- Breakdowns -----------------------------------------------------------------------------

COUNTRY_GROUP_GDPR = "EU/EEA/UK"
COUNTRY_GROUP_REST = "Rest of world"
UNKNOWN = "unknown"


def _contains(*needles: str) -> Q:
    condition = Q()
    for needle in needles:
        condition |= Q(**{f"{_RECORD}__user_agent__icontains": needle})
    return condition


def device_class_expression() -> Case:
    """Coarse device class from the user agent stored on the decision record, in SQL.

    Tablet before mobile (Android tablets omit "Mobile"; iPads say "iPad"), then
    desktop operating systems; anything else is unknown. iPadOS 13+ in desktop mode
    sends a Macintosh user agent and counts as desktop: a server cannot tell.
    """
    android_without_mobile = _contains("android") & ~_contains("mobile")
    return Case(
        When(
            _contains("ipad", "tablet", "kindle", "silk") | android_without_mobile,
            then=Value("tablet"),
        ),
        When(_contains("mobi", "iphone", "ipod", "android", "windows phone"), then=Value("mobile")),
        When(_contains("windows nt", "macintosh", "x11", "cros", "linux"), then=Value("desktop")),
        default=Value(UNKNOWN),
    )


def country_group_expression(gdpr_countries) -> Case:
    return Case(
        When(user__country__in=sorted(gdpr_countries), then=Value(COUNTRY_GROUP_GDPR)),
        When(user__country="", then=Value(UNKNOWN)),
        default=Value(COUNTRY_GROUP_REST),
    )


def breakdown_rows(
    *, experiment: Experiment, phase: ExperimentPhase, now: datetime, gdpr_countries
) -> list[dict]:
    """Decided users and opt-ins per (arm, locale, country group, surface, device class).

    One grouped query over the first decisions; ``experiments.analysis`` sums the
    rows into one table per dimension.
    """
    return list(
        _first_decision_rows(experiment=experiment, phase=phase, now=now)
        .annotate(
            locale=Lower(F(f"{_RECORD}__locale")),
            country_group=country_group_expression(gdpr_countries),
            record_surface=F(f"{_RECORD}__surface"),
            device_class=device_class_expression(),
        )
        .order_by()
        .values("arm_id", "locale", "country_group", "record_surface", "device_class")
        .annotate(decided=Count("pk"), opt_ins=Count("pk", filter=Q(choice=Choice.OPT_IN)))
    )


def ship_decision_for(experiment: Experiment) -> ShipDecision | None:
    return (
        ShipDecision.objects.filter(experiment=experiment)
        .select_related("variant", "decided_by")
        .first()
    )
