from django.core.management.base import BaseCommand, CommandError

from accounts.roles import permissions_create_all, roles_sync


class Command(BaseCommand):
    help = (
        "Make the staff role groups (accounts/roles.py) hold exactly their permissions; "
        "--check only reports what would change and exits non-zero if anything would."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Change nothing; exit 1 if a group differs."
        )

    def handle(self, *args, check: bool = False, **options):
        if not check:
            permissions_create_all()
        changes = roles_sync(dry_run=check)
        for change in changes:
            self.stdout.write(str(change))
        drifted = [change.role for change in changes if change.changed]
        if check and drifted:
            raise CommandError(
                "Roles differ from accounts/roles.py: " + ", ".join(drifted) + ". Run sync_roles."
            )
        if not check:
            self.stdout.write(self.style.SUCCESS("Roles are in sync with accounts/roles.py."))
