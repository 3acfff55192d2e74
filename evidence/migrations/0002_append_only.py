from django.db import migrations

from evidence.db import append_only_operations

log_forward, log_reverse = append_only_operations("LogEntry")
head_forward, head_reverse = append_only_operations("SignedTreeHead")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [
        migrations.RunPython(log_forward, log_reverse),
        migrations.RunPython(head_forward, head_reverse),
    ]
