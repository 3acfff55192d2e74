"""The privacy officer edits and reviews consent copy per language (consent translations)."""

from django.db import migrations

from accounts.roles import role_grant_operation

GROUP = "Privacy officer"
CODENAMES = [
    f"{action}_{model}"
    for model in ("modalvarianttranslation", "policytranslation")
    for action in ("add", "change", "delete", "view")
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_language_time_zone"),
        ("consent", "0015_copy_per_language_triggers"),
    ]

    operations = [role_grant_operation(GROUP, "consent", CODENAMES)]
