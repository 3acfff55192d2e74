from django.db import migrations

from consent.db import _statements, append_only_operations

shown_forward, shown_reverse = append_only_operations("consent", "ShownCopy")
served_forward, served_reverse = append_only_operations("consent", "ServedNotice")


def records_triggers_restore(apps, schema_editor):
    """SQLite adds a unique column (0012's served_notice) by rebuilding the table, which
    drops its triggers: put ConsentRecord's append-only triggers (0003) back, on any
    database (dropping first makes this a no-op where they survived)."""
    table = apps.get_model("consent", "ConsentRecord")._meta.db_table
    create, drop = _statements(schema_editor.connection.vendor, table)
    for sql in drop + create:
        schema_editor.execute(sql, params=None)  # None: the trigger SQL has literal % signs


class Migration(migrations.Migration):
    dependencies = [("consent", "0012_served_notices_shown_copies")]

    operations = [
        migrations.RunPython(shown_forward, shown_reverse),
        migrations.RunPython(served_forward, served_reverse),
        migrations.RunPython(records_triggers_restore, migrations.RunPython.noop),
    ]
