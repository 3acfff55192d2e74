from django.db import migrations

from consent.db import append_only_operations

forward, reverse = append_only_operations("consent", "ConsentRecord")


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_initial")]

    operations = [migrations.RunPython(forward, reverse)]
