import io
import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import ReadOnlyAdmin
from webhooks.admin import not_acknowledged_filter, propagation_html
from webhooks.models import EventType

from .admin_forms import ModalVariantAdminForm, PolicyAdminForm, TranslationAdminForm
from .bundles import BundleScope, evidence_bundle_write
from .compliance import variant_findings
from .models import (
    ConsentRecord,
    DeadlineReminder,
    DesignDefault,
    JurisdictionGroup,
    Lockout,
    ModalVariant,
    ModalVariantTranslation,
    NoticeDeferral,
    Policy,
    PolicyTranslation,
    UserConsentState,
)
from .receipts import REPORTED_BY_BROWSER_NOTE
from .services import translation_review_stamp, variant_make_default
from .views import shown_copy_page
from .wording import duration_words

logger = logging.getLogger(__name__)

# The evidence fields the person's browser reports: shown under these labels.
BROWSER_REPORTED = {
    "toggle_touched": f"Toggle touched ({REPORTED_BY_BROWSER_NOTE})",
    "learn_more_opened": f"“Learn more” opened ({REPORTED_BY_BROWSER_NOTE})",
}


class TranslationInline(admin.StackedInline):
    """Consent copy in one more language, shown only once reviewed (consent.copy)."""

    form = TranslationAdminForm
    extra = 0
    readonly_fields = ["reviewed_by", "reviewed_at"]


class ModalVariantTranslationInline(TranslationInline):
    model = ModalVariantTranslation


class PolicyTranslationInline(TranslationInline):
    model = PolicyTranslation


class TranslationsAdminMixin:
    def save_formset(self, request, form, formset, change):
        # The reviewer and time of each review come from who saved it, never from the form.
        for translation_form in formset.forms:
            if translation_form.cleaned_data and not translation_form.cleaned_data.get("DELETE"):
                translation_review_stamp(translation_form.instance, reviewer=request.user)
        super().save_formset(request, form, formset, change)


@admin.register(Policy)
class PolicyAdmin(TranslationsAdminMixin, admin.ModelAdmin):
    form = PolicyAdminForm
    inlines = [PolicyTranslationInline]
    list_display = [
        "version",
        "title",
        "change_kind",
        "effective_at",
        "decision_deadline",
        "opt_in_kept_for",
        "opt_out_kept_for",
    ]
    search_fields = ["version", "title"]
    readonly_fields = ["created_at", "text_digest"]
    date_hierarchy = "effective_at"
    list_filter = ["change_kind"]
    radio_fields = {"change_kind": admin.VERTICAL}

    @admin.display(description="Kept if opted in", ordering="opt_in_retention")
    def opt_in_kept_for(self, obj: Policy) -> str:
        return duration_words(obj.opt_in_retention)

    @admin.display(description="Kept if opted out", ordering="opt_out_retention")
    def opt_out_kept_for(self, obj: Policy) -> str:
        return duration_words(obj.opt_out_retention)

    def get_readonly_fields(self, request, obj=None):
        # Once anyone has decided under a version, its text is evidence: publish a new version instead.
        if obj is not None and obj.records.exists():
            return [
                *self.readonly_fields,
                "version",
                "title",
                "summary",
                "body",
                "effective_at",
                "change_kind",
            ]
        # A version's kind decides whose answers count under it: set once, when it is created.
        if obj is not None:
            return [*self.readonly_fields, "change_kind"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.records.exists()


@admin.register(ModalVariant)
class ModalVariantAdmin(TranslationsAdminMixin, admin.ModelAdmin):
    """Designs, with the compliance verdict shown before any action (``consent.compliance``)."""

    form = ModalVariantAdminForm
    inlines = [ModalVariantTranslationInline]
    list_display = [
        "key",
        "name",
        "layout",
        "toggle_default",
        "accept_emphasis",
        "is_active",
        "default_for",
        "compliance",
    ]
    list_filter = ["layout", "is_active"]
    search_fields = ["key", "name", "headline"]
    actions = ["make_default", "make_default_eu_eea_uk", "make_default_rest_of_world"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "default_for", "compliance_findings"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("defaults")

    @admin.display(description="Default for")
    def default_for(self, obj: ModalVariant) -> str:
        groups = sorted(d.get_jurisdiction_group_display() for d in obj.defaults.all())
        return ", ".join(groups) or "—"

    @admin.display(description="Compliance (EU/EEA/UK)")
    def compliance(self, obj: ModalVariant) -> str:
        findings = variant_findings(obj)
        failing = [f for f in findings if f.fails]
        if failing:
            rules = "; ".join(f.rule.title for f in failing)
            count = f"fails {len(failing)} rule{'s' if len(failing) != 1 else ''}"
            return format_html("<strong>{}</strong>: {}. Rest of world only.", count, rules)
        return "needs review" if findings else "passes"

    @admin.display(description="Compliance findings")
    def compliance_findings(self, obj: ModalVariant) -> str:
        if obj is None or obj.pk is None:
            return "Save the design to see its findings."
        findings = variant_findings(obj)
        if not findings:
            return "No rule flags this design."
        return format_html(
            "<p>{}</p><ul>{}</ul>",
            "Fails: may not be shown in the EU/EEA/UK."
            if any(f.fails for f in findings)
            else "May be shown everywhere; a person should still read it.",
            format_html_join(
                "",
                "<li><strong>{}: {}</strong> — {} <em>({})</em></li>",
                (
                    (f.rule.severity_label, f.rule.title, f.detail, f.rule.citation)
                    for f in findings
                ),
            ),
        )

    def _make_default(self, request: HttpRequest, queryset, groups: list[str] | None) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one design.", messages.ERROR)
            return
        try:
            variant = variant_make_default(
                queryset.get(), jurisdiction_groups=groups, set_by=request.user
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        where = (
            "everywhere"
            if groups is None
            else "in " + ", ".join(JurisdictionGroup(g).label for g in groups)
        )
        self.message_user(
            request, f"{variant} is now shown {where} wherever no experiment picks a design."
        )

    @admin.action(
        description="Make the selected design the default everywhere", permissions=["change"]
    )
    def make_default(self, request: HttpRequest, queryset) -> None:
        self._make_default(request, queryset, None)

    @admin.action(
        description="Make the selected design the EU/EEA/UK default", permissions=["change"]
    )
    def make_default_eu_eea_uk(self, request: HttpRequest, queryset) -> None:
        self._make_default(request, queryset, [JurisdictionGroup.EU_EEA_UK])

    @admin.action(
        description="Make the selected design the rest-of-world default", permissions=["change"]
    )
    def make_default_rest_of_world(self, request: HttpRequest, queryset) -> None:
        self._make_default(request, queryset, [JurisdictionGroup.REST_OF_WORLD])


@admin.register(DesignDefault)
class DesignDefaultAdmin(ReadOnlyAdmin):
    """Who set which default when; changed only through the design list's actions (the lint gate)."""

    list_display = ["jurisdiction_group", "variant", "set_at", "set_by"]
    list_select_related = ["variant", "set_by"]


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
    actions = ["export_evidence"]

    @admin.action(
        description="Export evidence for these people (zip, verifies offline)",
        permissions=["export_evidence"],
    )
    def export_evidence(self, request: HttpRequest, queryset) -> HttpResponse:
        """Everything about the selected records' people, not only the selected records: a
        bundle proves a person's whole history (consent.bundles)."""
        user_ids = sorted(set(queryset.values_list("user_id", flat=True)))
        buffer = io.BytesIO()
        summary = evidence_bundle_write(scope=BundleScope(user_ids=user_ids), out=buffer)
        logger.info(
            "evidence bundle exported",
            extra={"staff_user_id": request.user.pk, "user_ids": user_ids, "summary": str(summary)},
        )
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        name = f"evidence-{timezone.now():%Y%m%dT%H%M%S}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def has_export_evidence_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("consent.export_evidence")

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
            "what_was_shown",
        ]

    def get_urls(self):
        shown = path(
            "<path:object_id>/shown/",
            self.admin_site.admin_view(self.shown_view),
            name="consent_consentrecord_shown",
        )
        return [shown, *super().get_urls()]

    def shown_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The record's "show me exactly what this person saw", read-only: for whoever may
        view the record (privacy officer, support), never anyone else."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        record = self.get_object(request, object_id)
        if record is None:
            raise Http404("No such consent record.")
        back = reverse("admin:consent_consentrecord_change", args=[record.pk])
        return shown_copy_page(request, record, back_url=back)

    @admin.display(description="Exactly what was shown")
    def what_was_shown(self, obj: ConsentRecord) -> str:
        if obj.shown_copy_id is None:
            return "Not kept (recorded before shown screens were kept)"
        url = reverse("admin:consent_consentrecord_shown", args=[obj.pk])
        return format_html(
            '<a href="{}">Show exactly what this person saw</a> (SHA-256 {}…)',
            url,
            obj.shown_copy_id[:16],
        )

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
