"""The privacy officer registers and pauses subscribers, reads events and deliveries, replays."""

from django.db import migrations

from accounts.roles import role_grant_operation

GROUP = "Privacy officer"
PERMISSIONS = (
    "add_subscriber",
    "change_subscriber",
    "view_subscriber",
    "view_event",
    "view_delivery",
    "replay_delivery",
)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_privacy_officer_views_evidence"),
        ("webhooks", "0002_event_once_per_subject"),
    ]

    operations = [role_grant_operation(GROUP, "webhooks", PERMISSIONS)]
