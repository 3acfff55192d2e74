"""What anyone can fetch to check a receipt: the verifier, the public key and the signed
heads as published, and the page that explains how; privacy settings link to it."""

import base64
import hashlib
import json
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.urls import reverse
from django.utils import timezone

from consent.models import Choice, Surface
from consent.services import consent_record_create
from evidence import errors
from evidence import services as evidence_services
from evidence.services import head_signed_bytes
from tests.consent.factories import PolicyFactory
from tests.evidence.test_receipt_proof import TOOL, _download, _verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def decide_more(user):
    def decide() -> None:
        consent_record_create(
            user=user,
            policy=PolicyFactory(),
            choice=Choice.OPT_IN,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=timezone.now(),
        )

    return decide


def test_privacy_settings_link_to_the_receipt_check(client_logged_in, decided):
    response = client_logged_in.get(reverse("consent:privacy_settings"))

    assert reverse("evidence:verify_help") in response.content.decode()


def test_the_check_page_is_public_and_names_the_key_and_the_latest_head(client, decided):
    head = evidence_services.checkpoint().head
    key = client.get(reverse("evidence:public_key")).json()

    page = client.get(reverse("evidence:verify_help")).content.decode()

    assert reverse("evidence:verifier_download") in page
    assert key["public_key"] in page and key["key_id"] in page
    assert f"{head.tree_size} decisions" in page


def test_the_verifier_download_is_the_tool_itself(client):
    response = client.get(reverse("evidence:verifier_download"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TOOL.read_bytes()
    assert response["Content-Disposition"] == 'attachment; filename="verify_receipt.py"'


def test_the_public_key_verifies_the_published_latest_head(client, decided):
    evidence_services.checkpoint()
    key = client.get(reverse("evidence:public_key")).json()
    head = client.get(reverse("evidence:latest_head")).json()
    raw = base64.b64decode(key["public_key"])

    assert key["key_id"] == hashlib.sha256(raw).hexdigest() == head["key_id"]
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(head["signature"]),
        head_signed_bytes(
            tree_size=head["tree_size"],
            root_hash=head["root_hash"],
            timestamp_ms=head["timestamp_ms"],
        ),
    )


def test_heads_are_served_as_written_to_the_sink(client, decided, evidence_sink, decide_more):
    first = evidence_services.checkpoint().head
    decide_more()
    latest = evidence_services.checkpoint().head

    by_size = client.get(reverse("evidence:signed_head", args=[first.tree_size]))
    newest = client.get(reverse("evidence:latest_head"))

    assert by_size.content == (evidence_sink / first.sink_name).read_bytes()
    assert newest.content == (evidence_sink / latest.sink_name).read_bytes()
    assert "immutable" in by_size["Cache-Control"]
    assert newest["Cache-Control"] == "no-cache"


def test_no_head_yet_or_no_such_size_is_a_clear_404(client, decided):
    assert client.get(reverse("evidence:latest_head")).json() == {
        "detail": errors.HEAD_NOT_PUBLISHED
    }
    evidence_services.checkpoint()
    assert client.get(reverse("evidence:signed_head", args=[999])).status_code == 404


def test_a_receipt_verifies_with_the_key_and_head_fetched_from_the_site(
    client_logged_in, client, decided, tmp_path
):
    evidence_services.checkpoint()
    receipt = _download(client_logged_in, decided, tmp_path)
    size = json.loads(receipt.read_text())["anchored_evidence"]["signed_tree_head"]["tree_size"]
    head = tmp_path / "head.json"
    head.write_bytes(client.get(reverse("evidence:signed_head", args=[size])).content)
    key = client.get(reverse("evidence:public_key")).json()["public_key"]

    result = _verify(receipt, "--public-key", key, "--head", str(head))

    assert result.returncode == 0, result.stdout
