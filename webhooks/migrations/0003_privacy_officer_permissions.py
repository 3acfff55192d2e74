"""The privacy officer registers and pauses subscribers, reads events and deliveries, replays."""

from django.db import migrations

from accounts.roles import permissions_create_all

GROUP = "Privacy officer"
PERMISSIONS = (
    "add_subscriber",
    "change_subscriber",
    "view_subscriber",
    "view_event",
    "view_delivery",
    "replay_delivery",
)


def _permissions(apps):
    permissions_create_all(apps=apps)
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="webhooks", codename__in=PERMISSIONS
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
        ("webhooks", "0002_event_once_per_subject"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
