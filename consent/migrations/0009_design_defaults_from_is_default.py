"""Data: the one default design becomes the default of every jurisdiction group.

Render-time selection still checks the lint for the EU/EEA/UK (a failing design
copied here is never shown there); admin shows the verdict next to each default.
"""

from django.db import migrations
from django.utils import timezone

GROUPS = ("eu_eea_uk", "rest_of_world")


def forwards(apps, schema_editor):
    ModalVariant = apps.get_model("consent", "ModalVariant")
    DesignDefault = apps.get_model("consent", "DesignDefault")
    default = ModalVariant.objects.filter(is_default=True).first()
    if default is None:
        return
    for group in GROUPS:
        DesignDefault.objects.update_or_create(
            jurisdiction_group=group, defaults={"variant": default, "set_at": timezone.now()}
        )


def backwards(apps, schema_editor):
    ModalVariant = apps.get_model("consent", "ModalVariant")
    DesignDefault = apps.get_model("consent", "DesignDefault")
    row = (
        DesignDefault.objects.filter(jurisdiction_group="rest_of_world").first()
        or DesignDefault.objects.first()
    )
    ModalVariant.objects.update(is_default=False)
    if row is not None:
        ModalVariant.objects.filter(pk=row.variant_id).update(is_default=True)


class Migration(migrations.Migration):
    dependencies = [("consent", "0008_design_default")]

    operations = [migrations.RunPython(forwards, backwards)]
