"""A/B tests of the consent pop-up designs (DESIGN §3 experiments)."""

from django.conf import settings
from django.db import models


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


class Audience(models.TextChoices):
    ALL = "all", "All users"
    NEW_USERS = "new_users", "New users"
    EXISTING_USERS = "existing_users", "Existing users"


class Experiment(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True)
    surface = models.CharField(max_length=20)
    status = models.CharField(
        max_length=10, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    hash_seed = models.CharField(max_length=64, blank=True)
    coverage = models.FloatField(default=1.0)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.ALL)
    countries = models.JSONField(
        default=list, blank=True, help_text="ISO 3166-1 codes; empty means every country."
    )
    phase = models.PositiveIntegerField(default=1)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Arm(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    variant = models.ForeignKey("consent.ModalVariant", on_delete=models.PROTECT, related_name="arms")
    weight = models.FloatField(default=1.0)
    is_control = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "variant"], name="one_arm_per_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key}: {self.variant.key}"


class Assignment(models.Model):
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

    def __str__(self) -> str:
        return f"user {self.user_id} in {self.arm}"


class Exposure(models.Model):
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

    def __str__(self) -> str:
        return f"user {self.user_id} saw {self.arm}"
