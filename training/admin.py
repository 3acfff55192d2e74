"""Snapshots and the ledger are evidence: read-only in admin, for everyone.

The snapshot list has one button, "Export a new snapshot", which enqueues the export task
(or says that the task queue is unreachable); it needs the
``training.export_trainingsnapshot`` permission.
"""

import secrets

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from config.admin import ReadOnlyAdmin
from config.broker import task_enqueue
from conversations.content import ContentGuardedAdmin

from .models import (
    ExportStatus,
    ShardStatus,
    SnapshotExport,
    SnapshotShard,
    TrainingSnapshot,
    TrainingUse,
)
from .tasks import export_training_snapshot

EXPORT_QUEUED = (
    "Export {key} queued. It appears in this list when the file and its ledger are written; "
    "reload in a few minutes."
)
EXPORT_NOT_QUEUED = (
    "The export was not started: the task queue is unreachable. Nothing was written; "
    "try again in a few minutes, and tell the operators if it keeps failing."
)


@admin.register(TrainingSnapshot)
class TrainingSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "policy",
        "conversation_count",
        "message_count",
        "redaction_version",
        "shards",
        "file_sha256",
        "created_by",
    ]
    list_filter = ["policy", "redaction_version"]
    search_fields = ["snapshot_key", "file_sha256", "file_name"]
    date_hierarchy = "created_at"
    list_select_related = ["policy", "created_by"]
    change_list_template = "admin/training/trainingsnapshot/change_list.html"

    def get_urls(self):
        export = self.admin_site.admin_view(require_POST(self.export_view))
        return [
            path("export/", export, name="training_trainingsnapshot_export"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not request.user.has_perm("training.export_trainingsnapshot"):
            raise PermissionDenied
        key = f"admin-{secrets.token_hex(8)}"
        # Sent now, not on commit: this view writes nothing (the worker writes the snapshot
        # row only when its file is complete), and the answer must say whether it was sent.
        task_kwargs = {"snapshot_key": key, "created_by_id": request.user.pk}
        if task_enqueue(export_training_snapshot, kwargs=task_kwargs):
            self.message_user(request, EXPORT_QUEUED.format(key=key), messages.SUCCESS)
        else:
            self.message_user(request, EXPORT_NOT_QUEUED, messages.ERROR)
        return HttpResponseRedirect(reverse("admin:training_trainingsnapshot_changelist"))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(shard_total=Count("export__shards"))

    @admin.display(description="Shards")
    def shards(self, obj: TrainingSnapshot) -> str:
        # A finished snapshot has every shard done: its total is its progress.
        return f"{obj.shard_total}/{obj.shard_total}" if getattr(obj, "shard_total", 0) else "-"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm("training.export_trainingsnapshot"),
            # Exports still being written: no snapshot row exists until they finish.
            "running_exports": exports_with_progress().filter(status=ExportStatus.RUNNING),
        }
        return super().changelist_view(request, extra_context=extra_context)


def exports_with_progress():
    return SnapshotExport.objects.annotate(
        shards_done=Count("shards", filter=Q(shards__status=ShardStatus.DONE)),
        messages_done=Sum("shards__message_count", filter=Q(shards__status=ShardStatus.DONE)),
    ).select_related("policy")


class SnapshotShardInline(admin.TabularInline):
    model = SnapshotShard
    fields = [
        "index",
        "lower_id",
        "upper_id",
        "status",
        "attempt",
        "worker",
        "conversation_count",
        "message_count",
        "file_name",
        "file_sha256",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SnapshotExport)
class SnapshotExportAdmin(ReadOnlyAdmin):
    """Exports being written (and the history of written and failed ones): progress per shard."""

    list_display = [
        "snapshot_key",
        "status",
        "progress",
        "messages_done",
        "planned_at",
        "finished_at",
        "snapshot",
    ]
    list_filter = ["status"]
    search_fields = ["snapshot_key"]
    inlines = [SnapshotShardInline]
    readonly_fields = ["progress"]

    def get_queryset(self, request):
        return exports_with_progress().select_related("snapshot")

    @admin.display(description="Shards done")
    def progress(self, obj: SnapshotExport) -> str:
        return f"{obj.shards_done}/{obj.shard_count}"

    # An annotation (exports_with_progress), so the system checks need a display method to name.
    @admin.display(description="Messages done", ordering="messages_done")
    def messages_done(self, obj: SnapshotExport) -> int:
        return obj.messages_done or 0


@admin.register(TrainingUse)
class TrainingUseAdmin(ContentGuardedAdmin, ReadOnlyAdmin):
    # The kept title is the start of the first message: content, which staff never see here
    # nor filter on (?conversation_title__startswith= would answer with a row count).
    exclude = ["conversation_title"]
    content_paths = ("conversation_title",)
    list_display = ["conversation_id", "user_id", "snapshot", "consent_record_id", "created_at"]
    list_filter = ["snapshot"]
    search_fields = ["=conversation_id", "=user_id", "content_sha256"]
    date_hierarchy = "created_at"
    list_select_related = ["snapshot"]

    def get_readonly_fields(self, request, obj=None):
        return [
            name for name in super().get_readonly_fields(request, obj) if name not in self.exclude
        ]
