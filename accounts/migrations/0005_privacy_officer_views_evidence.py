"""The privacy officer may read the evidence log, its signed tree heads and the
verification runs (all read-only in admin)."""

from django.db import migrations

from accounts.roles import role_grant_operation

GROUP = "Privacy officer"
PERMISSIONS = ("view_logentry", "view_signedtreehead", "view_verificationrun")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_normalise_emails"),
        ("evidence", "0002_append_only"),
    ]

    operations = [role_grant_operation(GROUP, "evidence", PERMISSIONS)]
