"""Create the staff roles (Privacy officer, Product analyst, Support) as permission groups.

Why a data migration and not a ``post_migrate`` handler: the roles appear once, at a
known point of the migration history, with a reverse, and a later change to a role ships
as its own data migration that a reviewer sees. A ``post_migrate`` handler would rewrite
the groups on every ``migrate`` instead, silently. ``manage.py sync_roles`` re-applies
the current definition in ``accounts/roles.py`` (``--check`` reports drift), and a test
asserts that a migrated database matches that definition.

Permissions are created by Django's own ``post_migrate`` handler, i.e. only after *all*
migrations ran; so this migration depends on the latest migration of every app whose
permissions it names and creates the permission rows itself first.

The table is frozen here on purpose (migrations are snapshots): importing the live table
would make this old migration fail on a fresh database as soon as a role names a model
that a later migration creates.
"""

from django.db import migrations

from accounts.roles import permissions_create_all, roles_sync

ROLES_AT_0002 = {
    "Privacy officer": frozenset(
        {
            "consent.add_policy",
            "consent.change_policy",
            "consent.view_policy",
            "consent.add_modalvariant",
            "consent.change_modalvariant",
            "consent.view_modalvariant",
            "consent.view_consentrecord",
            "consent.view_userconsentstate",
            "consent.view_noticedeferral",
            "consent.view_deadlinereminder",
            "consent.view_lockout",
            "accounts.view_user",
            "retention.add_hold",
            "retention.change_hold",
            "retention.view_hold",
            "retention.view_retentionrun",
            "conversations.view_conversation",
            "training.view_trainingsnapshot",
            "training.export_trainingsnapshot",
            "training.view_traininguse",
        }
    ),
    "Product analyst": frozenset(
        {
            "experiments.add_experiment",
            "experiments.change_experiment",
            "experiments.view_experiment",
            "experiments.add_arm",
            "experiments.change_arm",
            "experiments.view_arm",
            "experiments.view_experimentphase",
            "experiments.view_assignment",
            "experiments.view_exposure",
            "experiments.view_results",
            "consent.view_modalvariant",
        }
    ),
    "Support": frozenset(
        {
            "accounts.view_user",
            "consent.view_policy",
            "consent.view_userconsentstate",
            "consent.view_consentrecord",
            "consent.view_noticedeferral",
            "consent.view_deadlinereminder",
            "consent.view_lockout",
        }
    ),
}


def create_roles(apps, schema_editor):
    permissions_create_all(apps=apps)
    roles_sync(roles=ROLES_AT_0002, apps=apps)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES_AT_0002).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("consent", "0004_seed_modal_variants"),
        ("conversations", "0001_initial"),
        ("retention", "0001_initial"),
        ("training", "0002_append_only"),
        ("experiments", "0002_phases_permissions_constraints"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
