from django.db import migrations

from consent.db import append_only_operations

# The ledger and the snapshot rows are evidence: the database refuses UPDATE, DELETE and
# TRUNCATE on both. A snapshot row is only ever inserted complete (training/services.py).
use_forward, use_reverse = append_only_operations("training", "TrainingUse")
snapshot_forward, snapshot_reverse = append_only_operations("training", "TrainingSnapshot")


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [
        migrations.RunPython(use_forward, use_reverse),
        migrations.RunPython(snapshot_forward, snapshot_reverse),
    ]
