"""Admin for experiments: create them, launch/pause/stop with actions, read results on the dashboard.

Assignments, exposures and phases are evidence of who saw what, so they are
read-only. The consent app's ModalVariant admin is re-registered here with the
compliance findings added (a subclass, so everything consent configures stays).
"""

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.pseudonyms import user_pseudonym
from config.admin import ReadOnlyAdmin
from consent.admin import ModalVariantAdmin as ConsentModalVariantAdmin
from consent.admin_forms import ModalVariantAdminForm as ConsentModalVariantForm
from consent.models import ModalVariant

from . import errors
from .analysis import experiment_plan, experiment_results
from .models import (
    Arm,
    Assignment,
    Experiment,
    ExperimentPhase,
    ExperimentStatus,
    Exposure,
    ShipDecision,
)
from .power import PlanningError
from .services import (
    experiment_launch,
    experiment_pause,
    experiment_stop,
    experiment_weights_change,
    variant_copy_validate_for_experiments,
)
from .shipping import experiment_ship


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = [
            "key",
            "name",
            "hypothesis",
            "surface",
            "audience",
            "countries",
            "coverage",
            "hash_seed",
            "hash_version",
            "sequential_testing",
            "sequential_tuning",
            "min_exposures_per_arm",
            "min_runtime_days",
            "p_value_correction",
            "planned_baseline_rate",
            "planned_daily_exposures",
            "target_mde",
            "planned_power",
        ]

    def clean_countries(self):
        countries = self.cleaned_data.get("countries") or []
        if not isinstance(countries, list):
            raise ValidationError('Give the countries as a list, such as ["US", "CA"].')
        cleaned = []
        for code in countries:
            code = str(code).strip().upper()
            if len(code) != 2 or not code.isalpha():
                raise ValidationError(errors.BAD_COUNTRY.format(code=code))
            cleaned.append(code)
        return sorted(set(cleaned))


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0
    fields = ["variant", "weight", "is_control", "position"]

    def get_readonly_fields(self, request, obj=None):
        # Once launched, only the weights may change (and that starts a new phase).
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            return ["variant", "is_control", "position"]
        return []

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.status == ExperimentStatus.DRAFT

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == ExperimentStatus.DRAFT

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status != ExperimentStatus.STOPPED


class PhaseInline(admin.TabularInline):
    model = ExperimentPhase
    extra = 0
    fields = ["number", "reason", "seed", "weights", "coverage", "started_at", "ended_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    list_display = [
        "key",
        "name",
        "surface",
        "status",
        "audience",
        "country_list",
        "coverage",
        "phase",
        "starts_at",
        "results_link",
    ]
    list_filter = ["status", "surface", "audience"]
    search_fields = ["key", "name"]
    inlines = [ArmInline, PhaseInline]
    actions = ["launch", "pause", "stop"]
    fieldsets = [
        (None, {"fields": ["key", "name", "hypothesis", "surface", "status", "results_link"]}),
        ("Audience", {"fields": ["audience", "countries", "coverage"]}),
        ("Assignment (GrowthBook)", {"fields": ["hash_seed", "hash_version", "phase"]}),
        (
            "Planning",
            {
                "fields": [
                    "planned_baseline_rate",
                    "planned_daily_exposures",
                    "target_mde",
                    "planned_power",
                    "min_runtime_days",
                    "planning_panel",
                ],
                "description": "GrowthBook's frequentist power calculation, computed on save.",
            },
        ),
        (
            "Analysis",
            {
                "fields": [
                    "p_value_correction",
                    "sequential_testing",
                    "sequential_tuning",
                    "min_exposures_per_arm",
                ]
            },
        ),
        ("Decision", {"fields": ["verdict_panel"]}),
        ("Dates", {"fields": ["starts_at", "ends_at", "created_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        always = [
            "status",
            "phase",
            "starts_at",
            "ends_at",
            "created_at",
            "results_link",
            "planning_panel",
            "verdict_panel",
        ]
        if obj is None or obj.status == ExperimentStatus.DRAFT:
            return always
        # Live or finished: who is in it and how they are hashed are part of the evidence.
        return [*always, "key", "surface", "audience", "countries", "hash_seed", "hash_version"]

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.status == ExperimentStatus.DRAFT

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="Countries")
    def country_list(self, obj: Experiment) -> str:
        return ", ".join(obj.countries) or "all"

    @admin.display(description="Results")
    def results_link(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Dashboard</a>', reverse("experiments:dashboard", args=[obj.key])
        )

    @admin.display(description="Plan")
    def planning_panel(self, obj: Experiment) -> str:
        if obj is None or obj.pk is None:
            return "Save the experiment to see the days it needs."
        arms = sum(1 for arm in obj.arms.all() if arm.weight > 0) or 2
        try:
            planned = experiment_plan(obj, max(arms, 2))
        except PlanningError as error:
            return str(error)
        days = planned.days_needed
        rows = [
            (d, f"{planned.power_after(d):.0%}", _percent(planned.mde_after(d)))
            for d in sorted({7, 14, 21, 28, days or 0} - {0})
            if d <= 366
        ]
        return format_html(
            "<p><strong>{}</strong> exposed users and <strong>{}</strong> to detect a {} relative "
            "change of a {} opt-in rate with {} power (alpha {}, {} arms, {} exposures a day)."
            "</p><table><thead><tr><th>After</th><th>Power at the target</th><th>MDE</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            f"{planned.users_needed:,}" if planned.users_needed else "Out of reach:",
            f"{days} days" if days else "more than ten years",
            _percent(planned.mde),
            _percent(planned.baseline_rate),
            f"{planned.power:.0%}",
            planned.alpha,
            planned.arms,
            planned.daily_users,
            format_html_join("", "<tr><td>{} days</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Verdict per arm")
    def verdict_panel(self, obj: Experiment) -> str:
        if obj is None or obj.pk is None or obj.status == ExperimentStatus.DRAFT:
            return "Launch the experiment to see verdicts."
        results = experiment_results(experiment=obj)
        rows = []
        for arm in results.arms:
            action = ""
            if arm.verdict is not None and arm.verdict.ships and obj.is_live:
                action = format_html(
                    '<a class="button" href="{}">Ship this design</a>',
                    reverse("admin:experiments_experiment_ship", args=[obj.pk, arm.arm.pk]),
                )
            rows.append((arm.variant.key, arm.verdict.label if arm.verdict else "-", action))
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows),
        )

    def get_urls(self):
        return [
            path(
                "<int:experiment_id>/ship/<int:arm_id>/",
                self.admin_site.admin_view(self.ship_view),
                name="experiments_experiment_ship",
            ),
            *super().get_urls(),
        ]

    def ship_view(self, request: HttpRequest, experiment_id: int, arm_id: int) -> HttpResponse:
        """Confirm, with a reason, that a winning arm's design becomes the default."""
        experiment = get_object_or_404(Experiment, pk=experiment_id)
        if not (
            self.has_change_permission(request, experiment)
            and request.user.has_perm("consent.change_modalvariant")
        ):
            raise PermissionDenied
        arm = get_object_or_404(Arm.objects.select_related("variant"), pk=arm_id)
        change_url = reverse("admin:experiments_experiment_change", args=[experiment.pk])
        form = ShipForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                experiment_ship(
                    experiment=experiment,
                    arm=arm,
                    decided_by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{arm.variant.key} is now the default design; {experiment.key} is stopped.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "experiment": experiment,
            "arm": arm,
            "form": form,
            "change_url": change_url,
            "title": f"Ship “{arm.variant.key}”",
        }
        return TemplateResponse(request, "experiments/admin_ship_confirm.html", context)

    def save_formset(self, request, form, formset, change):
        experiment = form.instance
        if formset.model is not Arm or experiment.status == ExperimentStatus.DRAFT:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # fills the change-log lists; nothing is written here
        if experiment.status == ExperimentStatus.STOPPED:
            return None
        # Weight edits on a live experiment go through the service: a new phase, never a reshuffle.
        weights = {
            f.instance.pk: f.cleaned_data["weight"]
            for f in formset.forms
            if f.instance.pk and f.cleaned_data and "weight" in f.cleaned_data
        }
        before = experiment.phase
        try:
            phase = experiment_weights_change(experiment=experiment, weights=weights)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        if phase.number != before:
            self.message_user(
                request,
                f"Weights changed: phase {phase.number} started with re-randomised assignment; "
                f"phase {before} is analysed separately.",
                messages.WARNING,
            )
        return None

    def _run(self, request, queryset, service, done: str) -> None:
        for experiment in queryset:
            try:
                service(experiment=experiment)
            except ValidationError as error:
                self.message_user(
                    request, f"{experiment.key}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"Experiment {experiment.key}: {done}.", messages.SUCCESS
                )

    @admin.action(description="Launch (or resume) selected experiments", permissions=["change"])
    def launch(self, request, queryset):
        self._run(request, queryset, experiment_launch, "running")

    @admin.action(
        description="Pause selected experiments (everyone sees the default design)",
        permissions=["change"],
    )
    def pause(self, request, queryset):
        self._run(request, queryset, experiment_pause, "paused")

    @admin.action(description="Stop selected experiments for good", permissions=["change"])
    def stop(self, request, queryset):
        self._run(request, queryset, experiment_stop, "stopped")


def _percent(value: float | None) -> str:
    return "none" if value is None else f"{value:.1%}"


class ShipForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="Why this design ships; kept with the decision for whoever asks later.",
    )


@admin.register(ShipDecision)
class ShipDecisionAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "variant", "phase", "decided_by", "decided_at"]
    list_select_related = ["experiment", "variant", "decided_by"]
    fields = [
        "experiment",
        "arm",
        "variant",
        "phase",
        "decided_by",
        "decided_at",
        "reason",
        "verdict",
    ]
    readonly_fields = fields


@admin.register(ExperimentPhase)
class ExperimentPhaseAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "number", "reason", "started_at", "ended_at"]
    list_filter = ["experiment"]
    list_select_related = ["experiment"]


# Analysts see people as pseudonyms (DESIGN §4 rule 6): a keyed hash, stable per user, with
# its own key so it cannot be matched against training files' pseudonyms.
PSEUDONYM_PURPOSE = "experiments.admin.pseudonym"
PSEUDONYM_LENGTH = 16
PSEUDONYM_SHAPE = re.compile(rf"[0-9a-f]{{{PSEUDONYM_LENGTH}}}")
# Only staff who may view user accounts see (and search by) a person's email here.
VIEW_PEOPLE_PERMISSION = "accounts.view_user"


def experiment_pseudonym(user_id: int) -> str:
    return user_pseudonym(user_id, purpose=PSEUDONYM_PURPOSE, length=PSEUDONYM_LENGTH)


class PseudonymousAdmin(ReadOnlyAdmin):
    """Rows about one person: the email for staff who may view users, else a pseudonym.

    Without ``accounts.view_user`` the ``user`` column, field, search and URL lookups
    (``?user=7``, ``?user__email=...``) are gone; search takes a pseudonym instead.
    """

    search_help_text = "Search by pseudonym (staff who may view users: by email too)."

    def _sees_people(self, request: HttpRequest) -> bool:
        return request.user.has_perm(VIEW_PEOPLE_PERMISSION)

    def _person_fields(self, request: HttpRequest, names) -> list[str]:
        if self._sees_people(request):
            return [*names, "pseudonym"]
        return [("pseudonym" if name == "user" else name) for name in names]

    def get_list_display(self, request: HttpRequest):
        return self._person_fields(request, super().get_list_display(request))

    def get_fields(self, request: HttpRequest, obj=None):
        names = [f.name for f in self.model._meta.fields if f.name != "id"]
        return self._person_fields(request, names)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    def get_search_fields(self, request: HttpRequest):
        # Non-empty for everyone, so the search box shows; get_search_results reads it.
        return ["user__email"] if self._sees_people(request) else ["pseudonym"]

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        term = search_term.strip().lower()
        if PSEUDONYM_SHAPE.fullmatch(term):
            # A keyed hash cannot be looked up: hash the ids in the (filtered) list instead.
            user_ids = queryset.order_by().values_list("user_id", flat=True).distinct()
            matches = [pk for pk in user_ids.iterator() if experiment_pseudonym(pk) == term]
            return queryset.filter(user_id__in=matches), False
        if self._sees_people(request):
            return super().get_search_results(request, queryset, search_term)
        return (queryset.none() if term else queryset), False

    def lookup_allowed(self, lookup: str, value, request: HttpRequest | None = None) -> bool:
        if lookup.split(LOOKUP_SEP)[0] in ("user", "user_id") and (
            request is None or not self._sees_people(request)
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="pseudonym")
    def pseudonym(self, row) -> str:
        return experiment_pseudonym(row.user_id)


@admin.register(Assignment)
class AssignmentAdmin(PseudonymousAdmin):
    list_display = ["experiment", "phase", "arm", "user", "assigned_at"]
    list_filter = ["experiment", "phase"]
    list_select_related = ["experiment", "arm__variant", "arm__experiment", "user"]
    date_hierarchy = "assigned_at"


@admin.register(Exposure)
class ExposureAdmin(PseudonymousAdmin):
    list_display = ["experiment", "phase", "arm", "user", "exposed_at"]
    list_filter = ["experiment", "phase"]
    list_select_related = ["experiment", "arm__variant", "arm__experiment", "user"]
    date_hierarchy = "exposed_at"


# --- Design copy of live arms on the ModalVariant admin ------------------------------------

admin.site.unregister(ModalVariant)


class ModalVariantForm(ConsentModalVariantForm):
    def validate_copy_in_use(self, variant: ModalVariant) -> None:
        super().validate_copy_in_use(variant)
        variant_copy_validate_for_experiments(variant)


@admin.register(ModalVariant)
class ModalVariantAdmin(ConsentModalVariantAdmin):
    """Consent's design admin (verdict column, findings), plus the lint gate for live arms."""

    form = ModalVariantForm
