"""A downloaded receipt carries its proof and verifies offline with tools/verify_receipt.py."""

import base64
import json
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from evidence import keys
from evidence import services as evidence_services

pytestmark = pytest.mark.django_db

TOOL = settings.BASE_DIR / "tools" / "verify_receipt.py"


def _verify(path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TOOL), str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        # No Django settings, no project on the path: the tool stands alone.
        env={"PATH": "/usr/bin:/bin"},
        cwd="/",
    )


def _download(client, record, tmp_path):
    response = client.get(reverse("consent:receipt_json", kwargs={"record_id": record.pk}))
    assert response.status_code == 200
    path = tmp_path / "receipt.json"
    path.write_bytes(response.content)
    return path


def _flipped(hex_hash: str) -> str:
    """The same hash with its first hex digit changed."""
    return ("1" if hex_hash[0] == "0" else "0") + hex_hash[1:]


def _public_key_b64() -> str:
    return base64.b64encode(keys.public_raw(keys.signing_key().public_key())).decode()


def test_receipt_has_no_proof_before_a_checkpoint(client_logged_in, decided, tmp_path):
    path = _download(client_logged_in, decided, tmp_path)

    assert json.loads(path.read_text())["anchored_evidence"] is None
    result = _verify(path)
    assert result.returncode == 1
    assert "carries no proof yet" in result.stdout


def test_downloaded_receipt_verifies_offline(client_logged_in, decided, tmp_path):
    evidence_services.checkpoint()
    path = _download(client_logged_in, decided, tmp_path)

    result = _verify(path, "--public-key", _public_key_b64())

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"VALID: record {decided.pk} (opt_out")
    assert "is leaf 1 of the evidence log" in result.stdout


def test_receipt_verifies_against_the_head_in_the_sink(
    client_logged_in, decided, tmp_path, evidence_sink
):
    head = evidence_services.checkpoint().head
    path = _download(client_logged_in, decided, tmp_path)

    result = _verify(path, "--head", str(evidence_sink / head.sink_name))

    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r.update(choice="opt_in"),
        lambda r: r["anchored_evidence"].update(
            leaf_data=r["anchored_evidence"]["leaf_data"].replace('"opt_out"', '"opt_in"')
        ),
        lambda r: r["anchored_evidence"]["inclusion_proof"].__setitem__(
            0, _flipped(r["anchored_evidence"]["inclusion_proof"][0])
        ),
        lambda r: r["anchored_evidence"].update(leaf_index=0),
        lambda r: r["anchored_evidence"]["signed_tree_head"].update(timestamp_ms=1),
        lambda r: r["anchored_evidence"]["signed_tree_head"].update(root_hash="0" * 64),
    ],
    ids=["choice", "leaf-data", "proof-hash", "leaf-index", "head-time", "head-root"],
)
def test_a_tampered_receipt_fails(client_logged_in, decided, tmp_path, tamper):
    evidence_services.checkpoint()
    path = _download(client_logged_in, decided, tmp_path)
    receipt = json.loads(path.read_text())
    tamper(receipt)
    path.write_text(json.dumps(receipt))

    result = _verify(path, "--public-key", _public_key_b64())

    assert result.returncode == 1
    assert result.stdout.startswith("INVALID: ")


def test_one_flipped_byte_anywhere_in_the_proof_fails(client_logged_in, decided, tmp_path):
    evidence_services.checkpoint()
    path = _download(client_logged_in, decided, tmp_path)
    text = path.read_text()
    at = text.index('"leaf_hash": "') + len('"leaf_hash": "')
    flipped = "1" if text[at] != "1" else "2"
    path.write_text(text[:at] + flipped + text[at + 1 :])

    result = _verify(path)

    assert result.returncode == 1


def test_a_receipt_signed_by_another_key_fails_with_the_operators_key(
    client_logged_in, decided, tmp_path
):
    evidence_services.checkpoint()
    path = _download(client_logged_in, decided, tmp_path)
    other = base64.b64encode(secrets.token_bytes(32)).decode()

    result = _verify(path, "--public-key", other)

    assert result.returncode == 1
    assert "not by key" in result.stdout
