"""The privacy officer may export evidence bundles (the records' admin action)."""

from django.db import migrations

from accounts.roles import permissions_create_all

GROUP = "Privacy officer"


def _permissions(apps):
    permissions_create_all(apps=apps)
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="consent", codename="export_evidence"
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
        ("accounts", "0005_privacy_officer_views_evidence"),
        ("consent", "0013_served_notices_append_only"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
