"""The privacy officer edits and reviews consent copy per language (consent translations)."""

from django.db import migrations

from accounts.roles import permissions_create_all

GROUP = "Privacy officer"
CODENAMES = [
    f"{action}_{model}"
    for model in ("modalvarianttranslation", "policytranslation")
    for action in ("add", "change", "delete", "view")
]


def _permissions(apps):
    permissions_create_all(apps=apps)
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="consent", codename__in=CODENAMES
    )


def grant(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_language_time_zone"),
        ("consent", "0015_copy_per_language_triggers"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
