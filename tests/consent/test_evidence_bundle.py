"""Evidence bundles (manage.py evidence_bundle, the records' admin action): a person's whole
consent history in one zip that a regulator checks offline with the bundled verifier."""

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import PRIVACY_OFFICER, PRODUCT_ANALYST, SUPPORT
from consent import errors
from consent.models import ConsentRecord
from tests.factories import UserFactory

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def evidence_sink(settings, tmp_path):
    """Signed heads go to a directory of this test's own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence_sink": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "checkpoints")},
        },
    }


def _token(html: str) -> str:
    return TOKEN_RE.search(html).group(1)


def _history(user, use_variant) -> list[ConsentRecord]:
    """Opted in on the first-login screen, then out in privacy settings: two servings answered."""
    use_variant("two_buttons")
    client = Client()
    client.force_login(user)
    token = _token(client.get(reverse("consent:decide")).content.decode())
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})
    token = _token(client.get(reverse("consent:privacy_settings")).content.decode())
    client.post(reverse("consent:privacy_change"), {"form_token": token, "decision": "opt_out"})
    return list(ConsentRecord.objects.filter(user=user).order_by("decided_at"))


def _bundle(tmp_path: Path, *args: str) -> tuple[Path, str]:
    out = tmp_path / "bundle.zip"
    stdout = io.StringIO()
    call_command("evidence_bundle", *args, "--out", str(out), "--no-progress", stdout=stdout)
    return out, stdout.getvalue()


def _unzip(path: Path, into: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
    return into


def _verify(root: Path, receipt: Path) -> subprocess.CompletedProcess:
    data = json.loads(receipt.read_text())
    head = data["anchored_evidence"]["signed_tree_head"]
    return subprocess.run(
        [
            sys.executable,
            "tools/verify_receipt.py",
            str(receipt.relative_to(root)),
            "--head",
            f"heads/tree-head-{head['tree_size']:015d}.json",
            "--public-key",
            f"keys/{head['key_id']}.pem",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},  # offline and without Django's settings
    )


def test_a_persons_bundle_verifies_offline(new_user, use_variant, tmp_path, django_user_model):
    records = _history(new_user, use_variant)
    bystander = django_user_model.objects.create_user("by@example.com", "x-correct-horse")
    _history(bystander, use_variant)

    out, printed = _bundle(tmp_path, "--user", str(new_user.pk), "--checkpoint")
    root = _unzip(out, tmp_path / "unzipped")

    # Every file is in the manifest with its digest, and nothing else is in the zip.
    manifest = json.loads((root / "manifest.json").read_text())
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert files - {"manifest.json"} == set(manifest["files_sha256"])
    for name, digest in manifest["files_sha256"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    # Each receipt verifies with the bundled verifier, head and key, and nothing else.
    receipts = sorted((root / f"people/{new_user.pk}/receipts").glob("*.json"))
    assert [r.stem for r in receipts] == sorted(str(r.pk) for r in records)
    for receipt in receipts:
        result = _verify(root, receipt)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("VALID")
        # What was shown and the policy text hash to what the signed record names.
        data = json.loads(receipt.read_text())
        shown = root / f"shown/{data['notice']['shown_copy_sha256']}.html"
        assert hashlib.sha256(shown.read_bytes()).hexdigest() == data["notice"]["shown_copy_sha256"]
        policy = root / f"policies/{data['notice']['policy_version']}.txt"
        assert (
            hashlib.sha256(policy.read_bytes()).hexdigest()
            == data["notice"]["policy_digest_sha256"]
        )
    servings = json.loads((root / f"people/{new_user.pk}/served_notices.json").read_text())
    assert {s["surface"] for s in servings} == {"first_login", "settings"}
    assert not (root / f"people/{bystander.pk}").exists()
    assert (root / "README.md").read_text().startswith("# Consent evidence bundle")
    assert "1 people, 2 records" in printed


def test_a_receipt_changed_inside_the_bundle_no_longer_verifies(new_user, use_variant, tmp_path):
    _history(new_user, use_variant)
    out, _ = _bundle(tmp_path, "--user", str(new_user.pk), "--checkpoint")
    root = _unzip(out, tmp_path / "unzipped")
    receipt = sorted((root / f"people/{new_user.pk}/receipts").glob("*.json"))[0]
    data = json.loads(receipt.read_text())
    data["choice"] = "opt_out" if data["choice"] == "opt_in" else "opt_in"
    receipt.write_text(json.dumps(data))

    result = _verify(root, receipt)

    assert result.returncode == 1
    assert result.stdout.startswith("INVALID")


def test_users_file_since_and_policy_narrow_the_bundle(
    new_user, policy, use_variant, tmp_path, django_user_model
):
    _history(new_user, use_variant)
    other = django_user_model.objects.create_user("o@example.com", "x-correct-horse")
    _history(other, use_variant)
    users_file = tmp_path / "people.txt"
    users_file.write_text(f"# the two people asked about\n{new_user.pk}\n\n{other.pk}  # second\n")
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()

    _, everyone = _bundle(tmp_path, "--users-file", str(users_file), "--policy", policy.version)
    _, nothing_yet = _bundle(tmp_path, "--users-file", str(users_file), "--since", tomorrow)

    assert "2 people, 4 records" in everyone
    assert "2 people, 0 records" in nothing_yet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), errors.BUNDLE_NO_USERS),
        (("--user", "999999"), errors.BUNDLE_UNKNOWN_USERS.format(ids="999999")),
        (
            ("--policy", "no-such-version"),
            errors.BUNDLE_UNKNOWN_POLICY.format(version="no-such-version"),
        ),
        (("--since", "last tuesday"), errors.BUNDLE_BAD_SINCE),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(new_user, tmp_path, args, message):
    if args and args[0] in ("--policy", "--since"):
        args = ("--user", str(new_user.pk), *args)

    with pytest.raises(CommandError) as raised:
        _bundle(tmp_path, *args)

    assert str(raised.value) == message
    assert not (tmp_path / "bundle.zip").exists()


def _staff(role: str):
    user = UserFactory(is_staff=True, date_joined=timezone.now() - timedelta(days=400))
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize(
    ("role", "exports"), [(PRIVACY_OFFICER, True), (SUPPORT, False), (PRODUCT_ANALYST, False)]
)
def test_only_the_privacy_officer_exports_evidence_from_admin(
    client, new_user, use_variant, role, exports
):
    records = _history(new_user, use_variant)
    client.force_login(_staff(role))

    response = client.post(
        reverse("admin:consent_consentrecord_changelist"),
        {"action": "export_evidence", "_selected_action": [str(records[0].pk)]},
    )

    if exports:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert f"people/{new_user.pk}/receipts/{records[1].pk}.json" in names  # the whole history
    else:
        assert response.get("Content-Type") != "application/zip"
