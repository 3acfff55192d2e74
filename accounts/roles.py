"""Staff roles: Django groups whose model permissions are the whole definition of the role.

The table below is the single source of truth. ``roles_sync`` makes each group hold
exactly these permissions (extras an admin ticked by hand are removed, so edit this file,
not the group); ``manage.py sync_roles`` runs it. A person gets a role by being put in the
group *and* having "Staff status" (admin refuses everyone without it).

Boundaries (DESIGN §4 rule 6), each pinned by ``tests/test_authorization_matrix.py``:

- Nobody in a role may view ``conversations.Message``: conversation content is never
  shown to staff. The conversation admin shows metadata only (number, dates, coverage,
  holds), and only the privacy officer may open it, to place holds.
- The product analyst sees experiments and their aggregate results, never an individual
  consent record or user consent state.
- Support reads one person's consent state, records (a record's admin page is its
  receipt's content) and reminders/lockouts, and nothing about experiments or content.
- Consent evidence (records, state, the training ledger) is read-only for everyone,
  superusers included: their admins refuse add/change/delete whatever the permissions say.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

PRIVACY_OFFICER = "Privacy officer"
PRODUCT_ANALYST = "Product analyst"
SUPPORT = "Support"

ROLES: dict[str, frozenset[str]] = {
    PRIVACY_OFFICER: frozenset(
        {
            # Publish policy versions and edit the pop-up designs.
            "consent.add_policy",
            "consent.change_policy",
            "consent.view_policy",
            "consent.add_modalvariant",
            "consent.change_modalvariant",
            "consent.view_modalvariant",
            # Who made which design the default where, and when (set by the design list's actions).
            "consent.view_designdefault",
            # Consent copy per language: translate, review (the lint gate) and retire unused ones.
            "consent.add_modalvarianttranslation",
            "consent.change_modalvarianttranslation",
            "consent.delete_modalvarianttranslation",
            "consent.view_modalvarianttranslation",
            "consent.add_policytranslation",
            "consent.change_policytranslation",
            "consent.delete_policytranslation",
            "consent.view_policytranslation",
            # Consent evidence: read-only.
            "consent.view_consentrecord",
            "consent.view_userconsentstate",
            "consent.view_noticedeferral",
            "consent.view_deadlinereminder",
            "consent.view_lockout",
            # Evidence bundles for regulators and auditors (consent.bundles, admin action).
            "consent.export_evidence",
            # The evidence log, its signed heads and the verification runs: read-only.
            "evidence.view_logentry",
            "evidence.view_signedtreehead",
            "evidence.view_verificationrun",
            "accounts.view_user",
            # Holds: place (add), release (change), and pick conversations by number; the
            # conversation admin shows metadata only.
            "retention.add_hold",
            "retention.change_hold",
            "retention.view_hold",
            "retention.view_retentionrun",
            # Safety flags keep a conversation longer for review (retention.services).
            "retention.flag_safety",
            "conversations.view_conversation",
            # Training exports: the snapshots, the ledger of what went in, and the export button.
            "training.view_trainingsnapshot",
            "training.export_trainingsnapshot",
            "training.view_traininguse",
            # An export's progress, shard by shard (linked from the snapshot list).
            "training.view_snapshotexport",
            # Webhooks: register and pause the systems told about consent changes, read the
            # outbox and every delivery, replay one event or a range.
            "webhooks.add_subscriber",
            "webhooks.change_subscriber",
            "webhooks.view_subscriber",
            "webhooks.view_event",
            "webhooks.view_delivery",
            "webhooks.replay_delivery",
        }
    ),
    PRODUCT_ANALYST: frozenset(
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
            # Which design an experiment shipped, by whom and why (aggregates only).
            "experiments.view_shipdecision",
            # The results dashboard and its CSV (experiments.views.RESULTS_PERMISSION).
            "experiments.view_results",
            # An arm names a design: the analyst reads the designs, the privacy officer edits them.
            "consent.view_modalvariant",
        }
    ),
    SUPPORT: frozenset(
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


@dataclass
class RoleChange:
    """What ``roles_sync`` did (or, with ``dry_run``, would do) to one group."""

    role: str
    created: bool = False
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed)

    def __str__(self) -> str:
        if not self.changed:
            return f"{self.role}: up to date"
        parts = ["created"] if self.created else []
        if self.added:
            parts.append("added " + ", ".join(self.added))
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        return f"{self.role}: " + "; ".join(parts)


def _permission_ids(permission_model, codenames: Iterable[str]) -> dict[str, int]:
    wanted = set(codenames)
    rows = permission_model.objects.filter(
        content_type__app_label__in={name.split(".", 1)[0] for name in wanted}
    ).values_list("pk", "content_type__app_label", "codename")
    found = {f"{app_label}.{codename}": pk for pk, app_label, codename in rows}
    missing = sorted(wanted - found.keys())
    if missing:
        # Loud: a role silently missing a permission is a role that does not work.
        raise ImproperlyConfigured(
            "These role permissions do not exist (run migrate first, or fix accounts/roles.py): "
            + ", ".join(missing)
        )
    return {name: found[name] for name in wanted}


@transaction.atomic
def roles_sync(
    *, roles: dict[str, frozenset[str]] = ROLES, apps=global_apps, dry_run: bool = False
) -> list[RoleChange]:
    """Make each role's group hold exactly its permissions; other groups are left alone.

    ``apps`` is the app registry to use: the global one, or a migration's historical one.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    changes = []
    for role, codenames in roles.items():
        wanted = _permission_ids(permission_model, codenames)
        group = group_model.objects.filter(name=role).first()
        change = RoleChange(role=role, created=group is None)
        current = (
            {}
            if group is None
            else {
                f"{app_label}.{codename}": pk
                for pk, app_label, codename in group.permissions.values_list(
                    "pk", "content_type__app_label", "codename"
                )
            }
        )
        change.added = sorted(wanted.keys() - current.keys())
        change.removed = sorted(current.keys() - wanted.keys())
        changes.append(change)
        if dry_run or not change.changed:
            continue
        if group is None:
            group = group_model.objects.create(name=role)
        group.permissions.add(*(wanted[name] for name in change.added))
        group.permissions.remove(*(current[name] for name in change.removed))
    return changes


def permissions_create_all(*, apps=global_apps) -> None:
    """Create the permission rows of every installed model now, not at the end of migrate.

    Django creates permissions in a ``post_migrate`` handler, i.e. after *all* migrations:
    a data migration that assigns them must create them itself first.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        if apps is global_apps:
            create_permissions(app_config, verbosity=0)
            continue
        # Historical app configs have no models module; create_permissions skips those.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def role_grant_operation(role: str, app_label: str, codenames: Iterable[str]):
    """A reversible data-migration step giving an existing role these permissions.

    A database where the role was never created (roles are made by ``roles_sync``) is left
    alone; reversing takes the same permissions away again.
    """
    from django.db import migrations

    codenames = tuple(codenames)

    def _change(apps, *, grant: bool) -> None:
        group = apps.get_model("auth", "Group").objects.filter(name=role).first()
        if group is None:
            return
        permissions_create_all(apps=apps)
        permissions = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        (group.permissions.add if grant else group.permissions.remove)(*permissions)

    return migrations.RunPython(
        lambda apps, schema_editor: _change(apps, grant=True),
        lambda apps, schema_editor: _change(apps, grant=False),
    )
