"""Conversations in admin: metadata only. Staff never see content here (DESIGN §4 rule 6):
no title (it is the start of the first message), no messages, only their count; str() of
a conversation is its number, so breadcrumbs, logs and autocomplete print no content
either. The safety-flag actions go through their services; the "Place on hold" action is
added by ``retention.admin`` (holds are retention's, and retention depends on conversations,
not the other way round).
"""

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from . import safety
from .content import ContentGuardedAdmin
from .models import Conversation, Message


def conversation_ref(conversation_id: int | None) -> str:
    """How admin names a conversation by id alone: its str(), never its title (content)."""
    return str(Conversation(pk=conversation_id)) if conversation_id else "-"


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
class ConversationAdmin(ContentGuardedAdmin):
    list_display = [
        "reference",
        "user",
        "created_at",
        "last_activity_at",
        "retain_until",
        "covered",
        "is_temporary",
        "safety_flagged_at",
        "hold_reason",
        "hold_until",
        "message_count",
    ]
    list_filter = [SafetyFlagFilter, CoveredFilter, "is_temporary"]
    # Title search only for staff who may read content (ContentGuardedAdmin drops it otherwise).
    search_fields = ["=id", "user__email", "title"]
    content_paths = ("title", "messages")
    list_select_related = ["user"]
    fields = [
        "reference",
        "user",
        "created_at",
        "last_activity_at",
        "covered_by",
        "is_temporary",
        "retain_until",
        "safety_flagged_at",
        "hold_reason",
        "hold_until",
        "message_count",
    ]
    readonly_fields = fields
    view_on_site = False
    actions = ["flag_for_safety", "clear_safety_flag"]

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

    def has_safety_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("retention.flag_safety")

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

    @admin.action(description="Flag for safety", permissions=["safety"])
    def flag_for_safety(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        for conversation in queryset:
            safety.conversation_safety_flag(conversation=conversation, flagged_by=request.user)
            self.log_change(request, conversation, "Flagged for safety.")
        self.message_user(
            request, f"Flagged {queryset.count()} conversation(s) for safety.", messages.SUCCESS
        )

    @admin.action(description="Clear safety flag", permissions=["safety"])
    def clear_safety_flag(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        cleared = 0
        for conversation in queryset.filter(safety_flagged_at__isnull=False):
            safety.conversation_safety_unflag(conversation=conversation, unflagged_by=request.user)
            self.log_change(request, conversation, "Cleared the safety flag.")
            cleared += 1
        self.message_user(request, f"Cleared {cleared} safety flag(s).", messages.SUCCESS)
