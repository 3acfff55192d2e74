"""The privacy officer may read the evidence log, its signed tree heads and the
verification runs (all read-only in admin)."""

from django.db import migrations

from accounts.roles import permissions_create_all

GROUP = "Privacy officer"
PERMISSIONS = ("view_logentry", "view_signedtreehead", "view_verificationrun")


def _permissions(apps):
    permissions_create_all(apps=apps)
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="evidence", codename__in=PERMISSIONS
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
        ("accounts", "0004_normalise_emails"),
        ("evidence", "0002_append_only"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
