"""Read-only admin views of the evidence log: nothing here may be edited by hand."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import LogEntry, SignedTreeHead, VerificationRun


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ["leaf_index", "kind", "object_id", "leaf_hash", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=object_id"]
    show_full_result_count = False


@admin.register(SignedTreeHead)
class SignedTreeHeadAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "signed_at", "root_hash", "key_id", "sink_name"]


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "status", "records_checked", "heads_checked", "finding_count"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in VerificationRun._meta.fields]
