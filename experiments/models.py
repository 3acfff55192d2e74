"""A/B tests of the consent pop-up designs (DESIGN §3 experiments).

An experiment's lifecycle is draft -> running <-> paused -> stopped, driven by
``experiments.services``; while it is live its traffic split is frozen into an
``ExperimentPhase`` and every assignment and exposure belongs to one phase, so a
change of weights starts a new, separately analysed phase instead of silently
reshuffling who sees what.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


class Audience(models.TextChoices):
    ALL = "all", "All users"
    NEW_USERS = "new_users", "New users"
    EXISTING_USERS = "existing_users", "Existing users"


class ExperimentSurface(models.TextChoices):
    """The consent surfaces that show a design (privacy settings and the API show none)."""

    FIRST_LOGIN = "first_login", "First-login screen"
    EXISTING_NOTICE = "existing_notice", "Existing-user notice"
    DEADLINE_GATE = "deadline_gate", "Deadline gate"


class HashVersion(models.IntegerChoices):
    V1 = 1, "GrowthBook v1 (legacy)"
    V2 = 2, "GrowthBook v2"


class PValueCorrection(models.TextChoices):
    """How the primary metric's p-values are adjusted across arms (never the guardrails')."""

    HOLM = "holm", "Holm-Bonferroni (family-wise error rate)"
    BENJAMINI_HOCHBERG = "benjamini_hochberg", "Benjamini-Hochberg (false discovery rate)"


class Experiment(models.Model):
    key = models.SlugField(
        max_length=60,
        unique=True,
        help_text="GrowthBook's tracking key; also the default hash seed.",
    )
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True)
    surface = models.CharField(max_length=20, choices=ExperimentSurface.choices)
    status = models.CharField(
        max_length=10, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    hash_seed = models.CharField(
        max_length=64, blank=True, help_text="Blank: the key is used, as GrowthBook does."
    )
    hash_version = models.PositiveSmallIntegerField(
        choices=HashVersion.choices, default=HashVersion.V2
    )
    coverage = models.FloatField(
        default=1.0,
        help_text="Share of the audience enrolled (0-1); the rest see the default design.",
    )
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.ALL)
    countries = models.JSONField(
        default=list, blank=True, help_text="ISO 3166-1 codes; empty means every country."
    )
    phase = models.PositiveIntegerField(default=1, help_text="The current phase's number.")
    sequential_testing = models.BooleanField(
        default=False,
        help_text="Always-valid p-values and intervals, for results watched while they come in.",
    )
    sequential_tuning = models.PositiveIntegerField(
        default=5000,
        help_text="Sequential testing: total exposures at which the interval is tightest.",
    )
    min_exposures_per_arm = models.PositiveIntegerField(
        default=200, help_text="Below this many exposed users in any arm the dashboard warns."
    )
    min_runtime_days = models.PositiveSmallIntegerField(
        default=7, help_text="Below this many days of a phase the dashboard warns (weekly cycles)."
    )
    p_value_correction = models.CharField(
        max_length=20,
        choices=PValueCorrection.choices,
        default=PValueCorrection.HOLM,
        help_text="Adjustment of the opt-in rate's p-values when more than one arm is compared "
        "with the control. Guardrails are never adjusted: a harm signal is not diluted.",
    )
    planned_baseline_rate = models.FloatField(
        default=0.35, help_text="Planning: the opt-in rate expected in the control arm (0-1)."
    )
    planned_daily_exposures = models.PositiveIntegerField(
        default=100, help_text="Planning: users expected to be exposed per day, all arms together."
    )
    target_mde = models.FloatField(
        default=0.1,
        help_text="Planning: the smallest relative change of the opt-in rate worth detecting "
        "(0.1 = 10%, e.g. 35% to 38.5%). Results count as enough data only once the sample "
        "detects it with the planned power.",
    )
    planned_power = models.FloatField(
        default=0.8, help_text="Planning: the chance of detecting a true change of the target size."
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("view_results", "Can view experiment results dashboards")]
        constraints = [
            models.CheckConstraint(
                condition=Q(coverage__gt=0, coverage__lte=1), name="experiment_coverage_in_range"
            ),
            models.CheckConstraint(
                condition=Q(planned_baseline_rate__gt=0, planned_baseline_rate__lt=1),
                name="experiment_baseline_rate_in_range",
            ),
            models.CheckConstraint(condition=Q(target_mde__gt=0), name="experiment_mde_positive"),
            models.CheckConstraint(
                condition=Q(planned_power__gt=0.05, planned_power__lt=1),
                name="experiment_power_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("experiments:dashboard", kwargs={"key": self.key})

    @property
    def seed(self) -> str:
        return self.hash_seed or self.key

    @property
    def is_live(self) -> bool:
        """Running or paused: its arms are fixed and its split lives in a phase."""
        return self.status in (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)


class ExperimentPhase(models.Model):
    """One frozen traffic split: weights and seed, from launch or from a weight change."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveIntegerField()
    seed = models.CharField(max_length=100)
    weights = models.JSONField(help_text="Arm id (as text) to weight, exactly as assigned.")
    coverage = models.FloatField(help_text="Coverage when the phase started.")
    reason = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["experiment_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "number"], name="one_phase_number"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key} phase {self.number}"

    def weight_of(self, arm_id: int) -> float:
        return float(self.weights.get(str(arm_id), 0.0))


class Arm(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    variant = models.ForeignKey(
        "consent.ModalVariant", on_delete=models.PROTECT, related_name="arms"
    )
    weight = models.FloatField(default=1.0, help_text="Relative share of traffic, e.g. 1, 1, 2.")
    is_control = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "variant"], name="one_arm_per_variant"),
            models.UniqueConstraint(
                fields=["experiment"], condition=Q(is_control=True), name="one_control_arm"
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="arm_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}: {self.variant.key}"


class Assignment(models.Model):
    """Sticky: the arm a user was given in one phase never changes."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="assignments")
    phase = models.PositiveIntegerField(default=1)
    assigned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "user", "phase"], name="one_assignment_per_phase"
            ),
        ]
        indexes = [models.Index(fields=["experiment", "phase", "arm"], name="assignment_phase_arm")]

    def __str__(self) -> str:
        # No user id: str() is the admin heading, and analysts see people only as pseudonyms.
        return f"Assignment #{self.pk} to {self.arm}"


class Exposure(models.Model):
    """The design was actually rendered to the user (server side), once per phase."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="exposures")
    phase = models.PositiveIntegerField(default=1)
    exposed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "user", "phase"], name="one_exposure_per_phase"
            ),
        ]
        indexes = [models.Index(fields=["experiment", "phase", "arm"], name="exposure_phase_arm")]

    def __str__(self) -> str:
        return f"Exposure #{self.pk} to {self.arm}"


class ShipDecision(models.Model):
    """Who shipped which arm's design as the default, when and why: the end of an experiment.

    Written once by ``experiments.services.experiment_ship``, which allows it only for
    an arm whose verdict was "ship" and a design that passes the compliance lint;
    ``verdict`` keeps the numbers the decision was made on.
    """

    experiment = models.OneToOneField(
        Experiment, on_delete=models.PROTECT, related_name="ship_decision"
    )
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey("consent.ModalVariant", on_delete=models.PROTECT, related_name="+")
    phase = models.PositiveIntegerField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    reason = models.TextField(help_text="Why this design ships, in the decider's words.")
    verdict = models.JSONField(help_text="The verdict and numbers at the moment of the decision.")

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.experiment.key}: shipped {self.variant.key}"
