"""Existing state rows get their tip's hash; existing records get their evidence leaves.

Leaves are queued unsequenced in chain order (decided_at, then id); the next checkpoint
sequences and signs them. The reverse clears the tip hashes and leaves the log alone: its
entries are append-only, and they still describe records that exist.
"""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from consent.chain import record_hash_material
from evidence.merkle import leaf_hash

RECORD_LEAF_KIND = "consent.record"  # consent.evidence.RECORD_LEAF_KIND, frozen here


def backfill(apps, schema_editor):
    ConsentRecord = apps.get_model("consent", "ConsentRecord")
    UserConsentState = apps.get_model("consent", "UserConsentState")
    LogEntry = apps.get_model("evidence", "LogEntry")

    UserConsentState.objects.filter(tip_hash="").update(
        tip_hash=Subquery(
            ConsentRecord.objects.filter(pk=OuterRef("latest_record_id")).values("record_hash")[:1]
        )
    )
    logged = set(LogEntry.objects.filter(kind=RECORD_LEAF_KIND).values_list("object_id", flat=True))
    now = timezone.now()
    batch = []
    records = ConsentRecord.objects.annotate(previous_hash=F("previous__record_hash")).order_by(
        "decided_at", "id"
    )
    for record in records.iterator(chunk_size=2000):
        if str(record.pk) in logged:
            continue
        data = record_hash_material(record, record.previous_hash)
        batch.append(
            LogEntry(
                kind=RECORD_LEAF_KIND,
                object_id=str(record.pk),
                leaf_hash=leaf_hash(data).hex(),
                created_at=now,
            )
        )
        if len(batch) >= 2000:
            LogEntry.objects.bulk_create(batch)
            batch = []
    LogEntry.objects.bulk_create(batch)


def clear_tip_hashes(apps, schema_editor):
    apps.get_model("consent", "UserConsentState").objects.update(tip_hash="")


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0006_userconsentstate_tip_hash"),
        ("evidence", "0002_append_only"),
    ]

    operations = [migrations.RunPython(backfill, clear_tip_hashes)]
