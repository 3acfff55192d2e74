"""Conversations in admin: metadata only. Support and analysts never see content here
(DESIGN §4 rule 6), so no title (it is the start of the first message), no messages,
only their count. Retention actions (hold, safety flag) go through retention services.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from retention import errors as retention_errors
from retention import services as retention_services
from retention.admin import conversation_ref

from . import safety
from .models import Conversation, Message


class PlaceHoldForm(forms.Form):
    reason = forms.CharField(max_length=200, help_text="Why, for example a case reference.")
    until = forms.DateTimeField(required=False, help_text="Leave empty to hold until released.")

    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(retention_errors.HOLD_UNTIL_IN_PAST)
        return until


class SafetyFlagFilter(admin.SimpleListFilter):
    title = "safety flag"
    parameter_name = "safety"

    def lookups(self, request, model_admin):
        return [("flagged", "Flagged"), ("not_flagged", "Not flagged")]

    def queryset(self, request, queryset):
        if self.value() in ("flagged", "not_flagged"):
            return queryset.filter(safety_flagged_at__isnull=self.value() == "not_flagged")
        return queryset


class CoveredFilter(admin.SimpleListFilter):
    title = "covered by an opt-in"
    parameter_name = "covered"

    def lookups(self, request, model_admin):
        return [("yes", "Covered"), ("no", "Not covered")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(covered_by__isnull=self.value() == "no")
        return queryset


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "user",
        "created_at",
        "last_activity_at",
        "retain_until",
        "covered",
        "safety_flagged_at",
        "hold_reason",
        "hold_until",
        "message_count",
    ]
    list_filter = [SafetyFlagFilter, CoveredFilter]
    search_fields = ["=id", "user__email"]
    list_select_related = ["user"]
    fields = [
        "reference",
        "user",
        "created_at",
        "last_activity_at",
        "covered_by",
        "retain_until",
        "safety_flagged_at",
        "hold_reason",
        "hold_until",
        "message_count",
    ]
    readonly_fields = fields
    view_on_site = False
    actions = ["place_hold", "flag_for_safety", "clear_safety_flag"]
    change_form_template = "admin/retention/conversation_change_form.html"
    object_history_template = "admin/retention/conversation_object_history.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversation]:
        # A correlated count per row shown, not a GROUP BY over the whole message table.
        count = (
            Message.objects.filter(conversation=OuterRef("pk"))
            .order_by()
            .values("conversation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .defer("title")
            .annotate(message_total=Coalesce(Subquery(count, output_field=IntegerField()), 0))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Deleting goes through conversation_delete (the user) or the retention purge.
        return False

    def has_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("retention.add_hold")

    def has_safety_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("retention.flag_safety")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The default heading is str(conversation): the title, which is content.
        extra_context = {**(extra_context or {}), "subtitle": conversation_ref(object_id)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "title": f"Change history: {conversation_ref(object_id)}",
            "subtitle": None,
        }
        return super().history_view(request, object_id, extra_context)

    def action_checkbox(self, conversation: Conversation) -> str:
        # The stock checkbox's aria-label is str(conversation): the title.
        attrs = {
            "class": "action-select",
            "aria-label": f"Select this object for an action - {conversation_ref(conversation.pk)}",
        }
        return forms.CheckboxInput(attrs, lambda value: False).render(
            ACTION_CHECKBOX_NAME, str(conversation.pk)
        )

    @admin.display(description="conversation", ordering="pk")
    def reference(self, conversation: Conversation) -> str:
        return conversation_ref(conversation.pk)

    @admin.display(description="covered", boolean=True)
    def covered(self, conversation: Conversation) -> bool:
        return conversation.covered_by_id is not None

    @admin.display(description="messages", ordering="message_total")
    def message_count(self, conversation: Conversation) -> int:
        total = getattr(conversation, "message_total", None)
        return conversation.messages.count() if total is None else total

    def _log(self, request: HttpRequest, conversation: Conversation, message: str) -> None:
        # LogEntry by hand: ModelAdmin.log_change would store str(conversation), the title.
        LogEntry.objects.create(
            user_id=request.user.pk,
            content_type_id=ContentType.objects.get_for_model(Conversation).pk,
            object_id=str(conversation.pk),
            object_repr=conversation_ref(conversation.pk),
            action_flag=CHANGE,
            change_message=message,
        )

    @admin.action(description="Place on hold", permissions=["hold"])
    def place_hold(self, request: HttpRequest, queryset: QuerySet[Conversation]):
        form = PlaceHoldForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for conversation in queryset:
                hold = retention_services.hold_place(
                    conversation=conversation,
                    reason=form.cleaned_data["reason"],
                    until=form.cleaned_data["until"],
                    created_by=request.user,
                )
                self._log(request, conversation, f"Placed hold #{hold.pk}.")
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

    @admin.action(description="Flag for safety", permissions=["safety"])
    def flag_for_safety(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        for conversation in queryset:
            safety.conversation_safety_flag(
                conversation=conversation, flagged_by=request.user
            )
            self._log(request, conversation, "Flagged for safety.")
        self.message_user(
            request, f"Flagged {queryset.count()} conversation(s) for safety.", messages.SUCCESS
        )

    @admin.action(description="Clear safety flag", permissions=["safety"])
    def clear_safety_flag(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        cleared = 0
        for conversation in queryset.filter(safety_flagged_at__isnull=False):
            safety.conversation_safety_unflag(
                conversation=conversation, unflagged_by=request.user
            )
            self._log(request, conversation, "Cleared the safety flag.")
            cleared += 1
        self.message_user(request, f"Cleared {cleared} safety flag(s).", messages.SUCCESS)
