"""The privacy officer may export evidence bundles (the records' admin action)."""

from django.db import migrations

from accounts.roles import role_grant_operation

GROUP = "Privacy officer"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_privacy_officer_views_evidence"),
        ("consent", "0013_served_notices_append_only"),
    ]

    operations = [role_grant_operation(GROUP, "consent", ("export_evidence",))]
