#!/usr/bin/env python3
"""Check a consent receipt offline: is this decision in the operator's append-only log?

    python tools/verify_receipt.py consent-receipt-<id>.json [--public-key KEY] [--head HEAD.json]

Needs only Python 3.11+ and the ``cryptography`` package; no network, no Django. It checks:

1. the receipt's leaf data hashes to the receipt's record hash, and says what the receipt
   says (record id, person, choice, time, previous record);
2. the leaf's RFC 6962 hash, through the inclusion proof, gives the root of the signed
   tree head;
3. that head's Ed25519 signature, by the public key whose id (SHA-256 of the raw key) the
   head names.

Give the operator's public key with ``--public-key`` (base64 of the 32 raw bytes, or a PEM
file): without it the key printed in the receipt is used, which proves the head was signed
by *that* key only. ``--head`` takes a signed head obtained elsewhere (the operator's
published checkpoints); it must be the one the receipt's proof was made against.

Exit status 0 and "VALID" when every check passes; 1 and "INVALID: <reason>" otherwise.
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEAD_FORMAT = "consentgate-tree-head/v1"


class Invalid(Exception):
    pass


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2 (RFC 6962's audit path, as a loop)."""
    if not 0 <= index < size:
        raise Invalid(f"leaf {index} cannot be in a tree of {size} leaves")
    if any(len(h) != 32 for h in (leaf, root, *proof)):
        raise Invalid("every hash in the proof must be 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid("the inclusion proof is too short")
    if r != root:
        raise Invalid("the inclusion proof does not lead to the signed root")


def head_signed_bytes(head: dict) -> bytes:
    return (
        f"{HEAD_FORMAT}\n{int(head['tree_size'])}\n{head['root_hash']}\n"
        f"{int(head['timestamp_ms'])}\n"
    ).encode()


def load_public_key(text: str) -> bytes:
    """Raw 32 bytes from base64, or from a PEM file's path."""
    path = Path(text)
    if path.is_file():
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise Invalid("the public key file does not hold an Ed25519 key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise Invalid("the public key is neither a PEM file nor base64") from exc
    if len(raw) != 32:
        raise Invalid("an Ed25519 public key is 32 bytes")
    return raw


def _same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def check_leaf_matches_receipt(receipt: dict, leaf_data: str) -> dict:
    integrity = receipt.get("integrity") or {}
    if hashlib.sha256(leaf_data.encode()).hexdigest() != integrity.get("record_hash_sha256"):
        raise Invalid("the leaf data does not hash to the receipt's record hash")
    previous_hash, _, canonical = leaf_data.partition("\n")
    if len(previous_hash) != 64:
        raise Invalid("the leaf data does not start with the previous record's hash")
    try:
        record = json.loads(canonical)
    except ValueError as exc:
        raise Invalid("the leaf data's record is not JSON") from exc
    expected = {
        "id": receipt.get("record_id"),
        "user_id": f"user:{record.get('user_id')}" == receipt.get("principal_id"),
        "choice": receipt.get("choice"),
        "previous_id": integrity.get("previous_record_id"),
    }
    if record.get("id") != expected["id"]:
        raise Invalid("the leaf is about another record than the receipt")
    if not expected["user_id"]:
        raise Invalid("the leaf is about another person than the receipt")
    if record.get("choice") != expected["choice"]:
        raise Invalid("the leaf records another choice than the receipt")
    if record.get("previous_id") != expected["previous_id"]:
        raise Invalid("the leaf links to another previous record than the receipt")
    event_time = (receipt.get("event") or {}).get("time")
    if not event_time or not _same_instant(record.get("decided_at", ""), event_time):
        raise Invalid("the leaf records another decision time than the receipt")
    return record


def verify(receipt: dict, *, public_key: bytes | None, head: dict | None) -> str:
    proof = receipt.get("anchored_evidence")
    if not proof:
        raise Invalid(
            "the receipt carries no proof yet: no signed tree head covered the record when it "
            "was downloaded; download it again after the next checkpoint"
        )
    record = check_leaf_matches_receipt(receipt, proof["leaf_data"])
    leaf = leaf_hash(proof["leaf_data"].encode())
    if leaf.hex() != proof.get("leaf_hash"):
        raise Invalid("the proof's leaf hash is not the hash of the leaf data")
    signed = proof["signed_tree_head"]
    if head is not None and head != signed:
        raise Invalid(
            f"the given head (size {head.get('tree_size')}) is not the one the receipt's proof "
            f"was made against (size {signed.get('tree_size')})"
        )
    if public_key is None:
        public_key = base64.b64decode(proof.get("public_key") or "")
    key_id = hashlib.sha256(public_key).hexdigest()
    if key_id != signed.get("key_id"):
        raise Invalid(f"the head was signed by key {signed.get('key_id')}, not by key {key_id}")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            base64.b64decode(signed["signature"], validate=True), head_signed_bytes(signed)
        )
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise Invalid("the signed tree head's signature does not verify") from exc
    try:
        proof_hashes = [bytes.fromhex(h) for h in proof["inclusion_proof"]]
        root = bytes.fromhex(signed["root_hash"])
    except ValueError as exc:
        raise Invalid("the proof holds something that is not a hex hash") from exc
    verify_inclusion(int(proof["leaf_index"]), int(signed["tree_size"]), leaf, proof_hashes, root)
    signed_at = datetime.fromtimestamp(int(signed["timestamp_ms"]) / 1000).astimezone()
    return (
        f"record {record['id']} ({record['choice']} at {record['decided_at']}) is leaf "
        f"{proof['leaf_index']} of the evidence log, under the tree head of size "
        f"{signed['tree_size']} signed {signed_at.isoformat(timespec='seconds')} "
        f"by key {key_id[:16]}…"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("receipt", type=Path, help="the receipt JSON you downloaded")
    parser.add_argument(
        "--public-key", help="the operator's Ed25519 public key (base64 or PEM file)"
    )
    parser.add_argument("--head", type=Path, help="a signed tree head JSON obtained elsewhere")
    args = parser.parse_args(argv)
    try:
        receipt = json.loads(args.receipt.read_text())
        head = json.loads(args.head.read_text()) if args.head else None
        public_key = load_public_key(args.public_key) if args.public_key else None
        verdict = verify(receipt, public_key=public_key, head=head)
    except Invalid as exc:
        print(f"INVALID: {exc}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"INVALID: the files are not a receipt and head this tool can read ({exc!r})")
        return 1
    print(f"VALID: {verdict}")
    if args.public_key is None:
        print(
            "Note: checked with the public key printed in the receipt itself; compare its id "
            "with the key id the operator publishes, or pass --public-key."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
