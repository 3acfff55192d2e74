"""Store every email stripped and lower-cased, the form every login is compared in.

The ``Lower(email)`` constraint already kept two accounts from differing only in case, but not
in surrounding spaces. If two rows would become the same address, nothing is changed and the
migration stops naming the accounts: each holds its own consent history, so which one keeps
the address is a person's decision, not a migration's.
"""

from collections import defaultdict

from django.db import migrations


class EmailCollision(Exception):
    pass


def normalise_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    by_address = defaultdict(list)
    for pk, email in User.objects.order_by("pk").values_list("pk", "email").iterator():
        by_address[email.strip().lower()].append((pk, email))
    collisions = {address: rows for address, rows in by_address.items() if len(rows) > 1}
    if collisions:
        listing = "; ".join(
            f"{address}: user ids {', '.join(str(pk) for pk, _ in rows)}"
            for address, rows in sorted(collisions.items())
        )
        raise EmailCollision(
            "Accounts whose emails differ only in case or spaces; change all but one "
            f"(in admin or the shell), then migrate again. {listing}"
        )
    for address, [(pk, email)] in by_address.items():
        if email != address:
            User.objects.filter(pk=pk).update(email=address)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_privacy_officer_flags_safety")]

    # Lower-casing cannot be undone (the typed spelling is gone) and needs no undoing.
    operations = [migrations.RunPython(normalise_emails, migrations.RunPython.noop)]
