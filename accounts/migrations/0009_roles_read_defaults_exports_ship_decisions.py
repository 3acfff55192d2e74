"""The privacy officer reads design defaults and export progress; the analyst reads ship decisions."""

from django.db import migrations

from accounts.roles import permissions_create_all

GRANTS = {
    "Privacy officer": [("consent", "view_designdefault"), ("training", "view_snapshotexport")],
    "Product analyst": [("experiments", "view_shipdecision")],
}


def _permissions(apps, wanted):
    permission = apps.get_model("auth", "Permission")
    return [
        permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in wanted
    ]


def grant(apps, schema_editor):
    permissions_create_all(apps=apps)
    for name, wanted in GRANTS.items():
        group = apps.get_model("auth", "Group").objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, wanted))


def revoke(apps, schema_editor):
    for name, wanted in GRANTS.items():
        group = apps.get_model("auth", "Group").objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, wanted))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_privacy_officer_translates_consent_copy"),
        ("consent", "0015_copy_per_language_triggers"),
        ("experiments", "0003_planning_corrections_ship_decision"),
        ("training", "0004_erasure_append_only"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
