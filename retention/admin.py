from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from kombu.utils.json import loads as json_loads

from config.broker import task_enqueue
from conversations.admin import ConversationAdmin, conversation_ref
from conversations.content import ContentGuardedAdmin
from conversations.models import Conversation

from . import errors, services
from .models import Hold, PurgeLock, RetentionRun
from .selectors import hold_active_q


class EvidenceAdmin(admin.ModelAdmin):
    """Records of what happened: nobody adds, edits or deletes them here, superusers included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(EvidenceAdmin):
    list_display = [
        "id",
        "started_at",
        "cutoff",
        "status",
        "dry_run",
        "conversations_deleted",
        "messages_deleted",
        "batches",
        "exhausted",
        "duration",
        "chunk",
        "worker",
    ]
    list_filter = ["status", "dry_run", "exhausted"]
    date_hierarchy = "started_at"
    search_fields = ["worker", "error"]

    @admin.display(description="duration")
    def duration(self, run: RetentionRun) -> str:
        if run.finished_at is None:
            return "-"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"

    @admin.display(description="id range")
    def chunk(self, run: RetentionRun) -> str:
        return "all" if run.id_range is None else f"{run.id_range_lo}-{run.id_range_hi}"


@admin.register(PurgeLock)
class PurgeLockAdmin(EvidenceAdmin):
    list_display = ["name", "holder", "acquired_at", "expires_at"]


class HoldStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "In force"), ("ended", "Released or lapsed")]

    def queryset(self, request, queryset: QuerySet[Hold]) -> QuerySet[Hold]:
        active = hold_active_q(at=timezone.now())
        if self.value() == "active":
            return queryset.filter(active)
        if self.value() == "ended":
            return queryset.exclude(active)
        return queryset


class HoldForm(forms.ModelForm):
    # A number box, not a select or raw-id widget: those print the conversation's title.
    conversation = forms.ModelChoiceField(
        queryset=Conversation.objects.all(),
        required=False,
        widget=forms.NumberInput,
        help_text="Conversation number (from the Conversations list). Leave empty to hold a user.",
    )

    class Meta:
        model = Hold
        fields = ["conversation", "user", "reason", "until"]

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(errors.HOLD_UNTIL_IN_PAST)
        return until


@admin.register(Hold)
class HoldAdmin(ContentGuardedAdmin):
    form = HoldForm
    content_paths = ("conversation__title", "conversation__messages")
    list_display = [
        "id",
        "target",
        "reason",
        "until",
        "in_force",
        "created_by",
        "created_at",
        "released_at",
        "released_by",
    ]
    list_filter = [HoldStateFilter]
    search_fields = ["reason", "user__email", "=conversation__id"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "created_by", "released_by"]
    actions = ["release_holds"]
    readonly_fields = [
        "target",
        "reason",
        "until",
        "created_by",
        "created_at",
        "released_at",
        "released_by",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["conversation", "user", "reason", "until"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A placed hold is evidence: it is released (an action), never edited.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="held")
    def target(self, hold: Hold) -> str:
        if hold.conversation_id:
            url = reverse("admin:conversations_conversation_change", args=[hold.conversation_id])
            return format_html('<a href="{}">{}</a>', url, conversation_ref(hold.conversation_id))
        return f"Every conversation of {hold.user}"

    @admin.display(description="in force", boolean=True)
    def in_force(self, hold: Hold) -> bool:
        return hold.released_at is None and (hold.until is None or hold.until > timezone.now())

    def save_model(self, request, obj: Hold, form, change: bool) -> None:
        hold = services.hold_place(
            reason=obj.reason,
            conversation=obj.conversation,
            user=obj.user,
            until=obj.until,
            created_by=request.user,
        )
        obj.pk, obj.created_at, obj.created_by = hold.pk, hold.created_at, hold.created_by

    @admin.action(description="Release hold", permissions=["change"])
    def release_holds(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            services.hold_release(hold=hold, released_by=request.user)
            released += 1
        skipped = queryset.count() - released
        self.message_user(request, f"Released {released} hold(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped}: {errors.HOLD_ALREADY_RELEASED}", messages.WARNING
            )


# --- "Place on hold" on the conversations list -------------------------------------------------
# Holds are retention's: the action is added here, to a subclass of conversations' admin, so
# conversations never imports retention (DESIGN §2, docs/architecture.md).


class PlaceHoldForm(forms.Form):
    reason = forms.CharField(max_length=200, help_text="Why, for example a case reference.")
    until = forms.DateTimeField(required=False, help_text="Leave empty to hold until released.")

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(errors.HOLD_UNTIL_IN_PAST)
        return until


admin.site.unregister(Conversation)


@admin.register(Conversation)
class HoldingConversationAdmin(ConversationAdmin):
    actions = ["place_hold", *ConversationAdmin.actions]

    def has_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("retention.add_hold")

    @admin.action(description="Place on hold", permissions=["hold"])
    def place_hold(self, request: HttpRequest, queryset: QuerySet[Conversation]):
        form = PlaceHoldForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for conversation in queryset:
                hold = services.hold_place(
                    conversation=conversation,
                    reason=form.cleaned_data["reason"],
                    until=form.cleaned_data["until"],
                    created_by=request.user,
                )
                self.log_change(request, conversation, f"Placed hold #{hold.pk}.")
            self.message_user(
                request, f"Placed {queryset.count()} conversation(s) on hold.", messages.SUCCESS
            )
            return None
        return TemplateResponse(
            request,
            "admin/retention/place_hold.html",
            {
                **self.admin_site.each_context(request),
                "title": "Place conversations on hold",
                "opts": self.model._meta,
                "form": form,
                "references": [
                    conversation_ref(pk) for pk in queryset.values_list("pk", flat=True)
                ],
                "selected": queryset.values_list("pk", flat=True),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


# --- Scheduled jobs (the purge and its siblings): "Run selected tasks" -----------------------

TASK_NOT_FOUND = 'No task named "{task}" is installed: check the task name of this schedule entry.'
TASKS_NOT_QUEUED = (
    "Not started, the task queue is unreachable: {names}. Nothing was run for these; try "
    "again in a few minutes, and tell the operators if it keeps failing."
)

admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """django-celery-beat's admin; its "Run selected tasks" answers 500 when the broker is down.

    Here each task is sent through ``task_enqueue`` and the page says which were sent and
    which were not, so a retry runs only the missing ones.
    """

    @admin.action(description="Run selected tasks")
    def run_tasks(self, request: HttpRequest, queryset: QuerySet[PeriodicTask]) -> None:
        self.celery_app.loader.import_default_modules()
        sent, refused = [], []
        for periodic in queryset:
            task = self.celery_app.tasks.get(periodic.task)
            if task is None:
                self.message_user(
                    request, TASK_NOT_FOUND.format(task=periodic.task), messages.ERROR
                )
                continue
            options = {"headers": {"periodic_task_name": periodic.name}}
            if periodic.queue:
                options["queue"] = periodic.queue
            enqueued = task_enqueue(
                task, args=json_loads(periodic.args), kwargs=json_loads(periodic.kwargs), **options
            )
            (sent if enqueued else refused).append(periodic.name)
        if sent:
            self.message_user(request, f"Started: {', '.join(sent)}.", messages.SUCCESS)
        if refused:
            self.message_user(
                request, TASKS_NOT_QUEUED.format(names=", ".join(refused)), messages.ERROR
            )
