"""Admin for the privacy team: subscribers (secret shown once), events, deliveries, replay."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join

from . import errors
from .addresses import EndpointRefused, endpoint_resolve
from .models import OPEN_STATUSES, Delivery, DeliveryStatus, Event, EventType, Subscriber
from .selectors import NO_EVENT, record_acknowledged_q, record_propagation
from .services import (
    deliveries_replay,
    events_replay,
    subscriber_create,
    subscriber_pause,
    subscriber_resume,
    subscriber_secret_rotate,
)

REPLAY_PERMISSION = "webhooks.replay_delivery"


class SubscriberForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Subscriber
        fields = ["name", "url", "event_types", "status"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            endpoint_resolve(url)
        except EndpointRefused as exc:
            raise forms.ValidationError(str(exc), code="endpoint_refused") from exc
        return url

    def clean_event_types(self) -> list[str]:
        chosen = self.cleaned_data["event_types"]
        if not chosen:
            raise forms.ValidationError(errors.EVENT_TYPES_REQUIRED)
        return sorted(chosen)


def _secret_page(request: HttpRequest, subscriber: Subscriber, secret: str) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "webhooks/admin/secret.html",
        {"subscriber": subscriber, "secret": secret, "title": f"Secret for {subscriber}"},
    )
    add_never_cache_headers(response)  # never kept by a browser or proxy cache
    return response


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberForm
    list_display = ["name", "url", "status", "types", "failing_since", "open_deliveries"]
    list_filter = ["status"]
    search_fields = ["name", "url"]
    readonly_fields = ["paused_at", "pause_reason", "failing_since", "created_at", "created_by"]
    actions = ["pause", "resume", "rotate_secret", "replay_dead_letters"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count("deliveries", filter=Q(deliveries__status__in=OPEN_STATUSES))
            )
        )

    @admin.display(description="event types")
    def types(self, obj: Subscriber) -> str:
        return ", ".join(obj.event_types)

    @admin.display(description="waiting deliveries", ordering="open_count")
    def open_deliveries(self, obj: Subscriber) -> int:
        return obj.open_count

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deliveries are the proof that a system was told: pause instead.
        if obj is not None and obj.deliveries.exists():
            return False
        return super().has_delete_permission(request, obj)

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(REPLAY_PERMISSION)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        subscriber, secret = subscriber_create(
            name=obj.name,
            url=obj.url,
            event_types=form.cleaned_data["event_types"],
            status=obj.status,
            created_by=request.user,
        )
        obj.pk = subscriber.pk
        request._webhook_secret = secret  # shown by response_add, stored nowhere in clear

    def response_add(self, request, obj, post_url_continue=None):
        return _secret_page(request, obj, request._webhook_secret)

    @admin.action(description="Pause the selected subscribers", permissions=["change"])
    def pause(self, request, queryset):
        for subscriber in queryset:
            subscriber_pause(subscriber=subscriber, reason=f"Paused by {request.user}")
        self.message_user(request, "Paused. Their events wait and nothing is dropped.")

    @admin.action(description="Resume the selected subscribers", permissions=["change"])
    def resume(self, request, queryset):
        for subscriber in queryset:
            subscriber_resume(subscriber=subscriber)
        self.message_user(request, "Resumed: waiting events go out oldest first.")

    @admin.action(description="Rotate the signing secret (shown once)", permissions=["change"])
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one subscriber.", messages.ERROR)
            return None
        subscriber = queryset.get()
        return _secret_page(request, subscriber, subscriber_secret_rotate(subscriber=subscriber))

    @admin.action(description="Replay their dead-lettered deliveries", permissions=["replay"])
    def replay_dead_letters(self, request, queryset):
        count = deliveries_replay(
            deliveries=Delivery.objects.filter(
                subscriber__in=queryset, status=DeliveryStatus.DEAD_LETTERED
            )
        )
        self.message_user(request, f"{count} deliveries will be sent again.")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(REPLAY_PERMISSION)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ["subscriber", "status", "attempts", "response_status", "delivered_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "short_subject", "sequence", "record_id", "occurred_at"]
    list_filter = ["type"]
    search_fields = ["=id", "=record_id", "=subject"]
    date_hierarchy = "occurred_at"
    inlines = [DeliveryInline]
    actions = ["replay"]

    @admin.display(description="subject")
    def short_subject(self, obj: Event) -> str:
        return obj.subject[:12] + "…"

    @admin.action(description="Replay to every subscriber that wants them", permissions=["replay"])
    def replay(self, request, queryset):
        count = events_replay(events=queryset)
        self.message_user(request, f"{count} deliveries will be sent again.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "event_type",
        "subscriber",
        "status",
        "attempts",
        "response_status",
        "delivered_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "subscriber", "event__type"]
    list_select_related = ["event", "subscriber"]
    search_fields = ["=event__id", "=event__record_id", "=subject"]
    date_hierarchy = "created_at"
    actions = ["replay"]

    @admin.display(description="type", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.action(
        description="Replay the selected deliveries (filter by date for a range)",
        permissions=["replay"],
    )
    def replay(self, request, queryset):
        count = deliveries_replay(deliveries=Delivery.objects.filter(pk__in=queryset.values("pk")))
        self.message_user(request, f"{count} deliveries will be sent again.")


# --- For the admins of reported records (consent records) ----------------------------------


def not_acknowledged_filter(event_type: str) -> type[admin.SimpleListFilter]:
    """A list filter: records whose ``event_type`` event system X has not acknowledged (2xx)."""

    class NotAcknowledgedFilter(admin.SimpleListFilter):
        title = "not yet acknowledged by"
        parameter_name = "not_acknowledged_by"

        def lookups(self, request, model_admin):
            return [(str(pk), name) for pk, name in Subscriber.objects.values_list("pk", "name")]

        def queryset(self, request, queryset):
            value = self.value()
            if not value or not value.isdigit():
                return queryset
            return queryset.exclude(
                record_acknowledged_q(subscriber_id=int(value), event_type=event_type)
            )

    return NotAcknowledgedFilter


PROPAGATION_LABELS = {
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.FAILED: "failed, retrying",
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.DEAD_LETTERED: "dead-lettered",
    NO_EVENT: "never told (recorded before webhooks existed)",
}


def propagation_html(*, event_type: str, record_id: str) -> str:
    """Per subscriber: delivered (when, response code) / pending / failed / dead-lettered."""
    rows = record_propagation(event_type=event_type, record_id=record_id)
    if not rows:
        return "No subscribers."
    items = []
    for row in rows:
        label = PROPAGATION_LABELS.get(row.status, row.status)
        if row.status == DeliveryStatus.DELIVERED:
            detail = f"{row.delivered_at:%Y-%m-%d %H:%M:%S %Z}, HTTP {row.response_status}"
        elif row.status == DeliveryStatus.FAILED:
            detail = f"{row.attempts} attempts, next {row.next_attempt_at:%Y-%m-%d %H:%M %Z}: {row.last_error}"
        elif row.status == DeliveryStatus.DEAD_LETTERED:
            detail = f"after {row.attempts} attempts: {row.last_error}"
        else:
            detail = ""
        items.append((row.subscriber.name, label, detail))
    return format_html(
        "<ul>{}</ul>",
        format_html_join("", "<li><strong>{}</strong>: {} {}</li>", items),
    )
