from django.db import migrations

from consent.db import _statements

APPEND_ONLY = ("ConsentRecord", "ServedNotice", "ShownCopy")


def triggers_restore(apps, schema_editor):
    """0014 adds columns to three append-only tables; should a backend rebuild a table to
    add one (SQLite does for some columns), its triggers are gone: put them back (dropping
    first makes this a no-op where they survived)."""
    for model_name in APPEND_ONLY:
        table = apps.get_model("consent", model_name)._meta.db_table
        create, drop = _statements(schema_editor.connection.vendor, table)
        for sql in drop + create:
            schema_editor.execute(sql, params=None)  # None: the trigger SQL has literal % signs


class Migration(migrations.Migration):
    dependencies = [("consent", "0014_copy_per_language")]

    operations = [migrations.RunPython(triggers_restore, migrations.RunPython.noop)]
