"""The privacy officer may flag conversations for safety review (keeps them longer)."""

from django.db import migrations

from accounts.roles import permissions_create_all

GROUP = "Privacy officer"
PERMISSION = ("retention", "flag_safety")


def _permission(apps):
    permissions_create_all(apps=apps)
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label=PERMISSION[0], codename=PERMISSION[1]
    )


def grant(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(_permission(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(_permission(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("retention", "0002_hold_flag_safety_permission"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
