"""Snapshots and the ledger are evidence: read-only in admin, for everyone.

The snapshot list has one button, "Export a new snapshot", which enqueues the export task
(or says that the task queue is unreachable); it needs the
``training.export_trainingsnapshot`` permission.
"""

import secrets

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from config.admin import ReadOnlyAdmin
from config.broker import task_enqueue
from conversations.content import ContentGuardedAdmin

from .models import TrainingSnapshot, TrainingUse
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

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm("training.export_trainingsnapshot"),
        }
        return super().changelist_view(request, extra_context=extra_context)


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
