from django.db import migrations

from consent.db import append_only_operations

# An erasure is evidence of when a withdrawal happened: inserted once, never changed.
forward, reverse = append_only_operations("training", "ConversationErasure")


class Migration(migrations.Migration):
    dependencies = [("training", "0003_sharded_export")]

    operations = [migrations.RunPython(forward, reverse)]
