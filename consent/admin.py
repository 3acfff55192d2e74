from django.contrib import admin, messages
from django.http import HttpRequest

from config.admin import ReadOnlyAdmin
from webhooks.admin import not_acknowledged_filter, propagation_html
from webhooks.models import EventType

from .models import (
    ConsentRecord,
    DeadlineReminder,
    Lockout,
    ModalVariant,
    NoticeDeferral,
    Policy,
    UserConsentState,
)
from .receipts import REPORTED_BY_BROWSER_NOTE
from .services import variant_make_default

# The evidence fields the person's browser reports: shown under these labels.
BROWSER_REPORTED = {
    "toggle_touched": f"Toggle touched ({REPORTED_BY_BROWSER_NOTE})",
    "learn_more_opened": f"“Learn more” opened ({REPORTED_BY_BROWSER_NOTE})",
}


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "title",
        "effective_at",
        "decision_deadline",
        "opt_in_retention",
        "opt_out_retention",
    ]
    search_fields = ["version", "title"]
    readonly_fields = ["created_at", "text_digest"]
    date_hierarchy = "effective_at"

    def get_readonly_fields(self, request, obj=None):
        # Once anyone has decided under a version, its text is evidence: publish a new version instead.
        if obj is not None and obj.records.exists():
            return [*self.readonly_fields, "version", "title", "summary", "body", "effective_at"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.records.exists()


@admin.register(ModalVariant)
class ModalVariantAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "layout",
        "toggle_default",
        "accept_emphasis",
        "is_active",
        "is_default",
    ]
    list_filter = ["layout", "is_active", "is_default"]
    search_fields = ["key", "name", "headline"]
    actions = ["make_default"]

    @admin.action(description="Make the selected design the default", permissions=["change"])
    def make_default(self, request: HttpRequest, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one design.", messages.ERROR)
            return
        variant = variant_make_default(queryset.get())
        self.message_user(request, f"{variant} is now shown wherever no experiment picks a design.")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "choice", "surface", "variant", "policy", "decided_at"]
    list_filter = [
        "choice",
        "surface",
        "variant",
        "policy",
        not_acknowledged_filter(EventType.CONSENT_DECIDED),
    ]
    search_fields = ["id", "user__email", "record_hash"]
    date_hierarchy = "decided_at"
    list_select_related = ["user", "variant", "policy"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return self.get_fields(request, obj)

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # Every model field, the browser-reported ones under labels that say so.
        return [
            *(
                f"{f.name}_as_reported" if f.name in BROWSER_REPORTED else f.name
                for f in self.model._meta.fields
            ),
            "propagation",
        ]

    @admin.display(description="Downstream systems (webhooks)")
    def propagation(self, obj: ConsentRecord) -> str:
        return propagation_html(event_type=EventType.CONSENT_DECIDED, record_id=str(obj.pk))

    @admin.display(description=BROWSER_REPORTED["toggle_touched"], boolean=True)
    def toggle_touched_as_reported(self, obj: ConsentRecord) -> bool:
        return obj.toggle_touched

    @admin.display(description=BROWSER_REPORTED["learn_more_opened"], boolean=True)
    def learn_more_opened_as_reported(self, obj: ConsentRecord) -> bool:
        return obj.learn_more_opened


@admin.register(UserConsentState)
class UserConsentStateAdmin(ReadOnlyAdmin):
    list_display = ["user", "choice", "policy", "decided_at"]
    list_filter = ["choice", "policy"]
    search_fields = ["user__email"]
    list_select_related = ["user", "policy"]


@admin.register(NoticeDeferral)
class NoticeDeferralAdmin(ReadOnlyAdmin):
    list_display = ["user", "policy", "deferred_at", "hidden_until"]
    list_filter = ["policy"]
    search_fields = ["user__email"]


@admin.register(DeadlineReminder)
class DeadlineReminderAdmin(ReadOnlyAdmin):
    list_display = ["user", "policy", "kind", "sent_at"]
    list_filter = ["kind", "policy"]
    search_fields = ["user__email"]


@admin.register(Lockout)
class LockoutAdmin(ReadOnlyAdmin):
    list_display = ["user", "policy", "locked_at", "resolved_at"]
    list_filter = ["policy"]
    search_fields = ["user__email"]
