# Every index on the records table is paid for by every decision. Two nobody reads go:
# - user_id alone, beside the (user_id, decided_at) index that serves the same look-ups;
# - on PostgreSQL, the LIKE (varchar_pattern_ops) indexes Django adds for unique
#   CharFields: form keys and hashes are only ever matched exactly.
# Hand-written SQL: letting AlterField drop the user index would also drop the partial
# unique index one_chain_start_per_user on the same column, and on SQLite it would
# rebuild the table without its append-only triggers.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

USER_INDEX = "consent_consentrecord_user_id_7103418b"
LIKE_INDEXES = {
    "consent_consentrecord_form_key_76d2f611_like": "form_key",
    "consent_consentrecord_record_hash_f969c1f0_like": "record_hash",
}


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in LIKE_INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in LIKE_INDEXES.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" '
                f'ON "consent_consentrecord" ("{column}" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0004_seed_modal_variants"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="consentrecord",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_records",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{USER_INDEX}"',
                    f'CREATE INDEX "{USER_INDEX}" ON "consent_consentrecord" ("user_id")',
                ),
            ],
        ),
        migrations.RunPython(drop_like_indexes, create_like_indexes),
    ]
