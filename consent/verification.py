"""``manage.py verify_evidence``: the database checked against the signed tree heads kept
outside it, and the chains, state rows and their users checked against each other.

What it proves (DESIGN §4 rule 7), in one pass over the records and one over the log:
- every record's chain hash and ``previous`` link (no gap, one start, one tip);
- every record is a leaf of the log, and its leaf recomputed from the record matches;
- every leaf still has its record;
- the leaves recomputed from the records give, at each signed head's size, that head's
  root, and each head is consistent with the next (RFC 6962 consistency proofs);
- each head's Ed25519 signature, by a trusted key; the heads in the sink and in the table
  agree, so a head altered or removed on either side is named;
- each state row names its chain's tip (id, hash, choice, policy);
- each conversation's ``covered_by`` and each training ledger row points at an ``opt_in``
  record of that same user. Those tables belong to apps that depend on consent, so each
  app registers its table here (``record_reference_register``, from its ``AppConfig.ready``)
  and consent imports neither (docs/architecture.md).

Memory is O(records) (a leaf hash and an owner per record): about 1 GB for 10 million.
"""

import base64
import binascii
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from types import SimpleNamespace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from evidence import keys, merkle
from evidence.models import LogEntry, SignedTreeHead, VerificationRun
from evidence.selectors import sink_heads
from evidence.services import head_document, head_signed_bytes

from .chain import HASHED_FIELDS, HASHED_IF_SET, chain_verify_user, record_hash_material
from .evidence import RECORD_LEAF_KIND
from .models import Choice, ConsentRecord, UserConsentState

logger = logging.getLogger(__name__)

FINDINGS_KEPT = 500


@dataclass(frozen=True)
class RecordReference:
    """A table of another app whose rows name consent records: each must be an opt-in of the
    row's own user. ``rows`` yields ``(pk, user_id, record_id)``; a finding reads
    "<subject> <pk> (user <id>) <claim> <record id>, which is not an opt-in of that user"."""

    subject: str
    claim: str
    rows: Callable[[], Iterable[tuple]]


# Filled at start-up by the apps that own the tables (conversations, training), keyed by subject.
RECORD_REFERENCES: dict[str, RecordReference] = {}


def record_reference_register(reference: RecordReference) -> None:
    RECORD_REFERENCES[reference.subject] = reference


@dataclass(frozen=True)
class Finding:
    subject: str  # "record <id> (user <id>)", "user <id>", "head <size>", ...
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    records_checked: int = 0
    leaves_checked: int = 0
    heads_checked: int = 0
    states_checked: int = 0

    @property
    def passed(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        verdict = "OK" if self.passed else f"{len(self.findings)} problem(s)"
        return (
            f"Evidence {verdict}: {self.records_checked} records, {self.leaves_checked} leaves, "
            f"{self.heads_checked} signed heads, {self.states_checked} state rows."
        )


@dataclass(frozen=True)
class _Tip:
    pk: str
    record_hash: str
    choice: str
    policy_id: int


def _record_subject(pk, user_id) -> str:
    return f"record {pk} (user {user_id})"


def _records_by_user() -> Iterator[list[SimpleNamespace]]:
    """Each user's records in one list; plain rows, not model instances (1M in seconds)."""
    names = ("id", *[n for n in HASHED_FIELDS if n != "id"], *HASHED_IF_SET, "record_hash")
    rows = (
        ConsentRecord.objects.order_by("user_id", "decided_at", "id")
        .values_list(*names)
        .iterator(chunk_size=10_000)
    )
    current: list[SimpleNamespace] = []
    for row in rows:
        record = SimpleNamespace(**dict(zip(names, row, strict=True)))
        record.pk = record.id
        if current and current[0].user_id != record.user_id:
            yield current
            current = []
        current.append(record)
    if current:
        yield current


class _Verifier:
    def __init__(self, *, progress):
        self.report = Report()
        self.progress = progress
        self.leaves: dict[str, tuple[bytes, int]] = {}  # record id -> (leaf hash, user id)
        self.opt_in_owner: dict[str, int] = {}
        self.tips: dict[int, _Tip] = {}

    def add(self, subject: str, reason: str) -> None:
        self.report.findings.append(Finding(subject, reason))

    # --- chains ------------------------------------------------------------------------

    def check_chains(self) -> None:
        total = ConsentRecord.objects.count()
        bar = self.progress(total=total, desc="records")
        for records in _records_by_user():
            self.report.records_checked += len(records)
            bar.update(len(records))
            self._check_chain(records)
        bar.close()

    def _check_chain(self, records: list[SimpleNamespace]) -> None:
        user_id = records[0].user_id
        for chain_break in chain_verify_user(records):
            self.add(_record_subject(chain_break.record_id, user_id), chain_break.reason)
        by_id = {r.pk: r for r in records}
        followed = {r.previous_id for r in records if r.previous_id}
        tips = [r for r in records if r.pk not in followed]
        if len(tips) != 1:
            self.add(f"user {user_id}", f"chain has {len(tips)} tips instead of one")
        for record in records:
            previous = by_id.get(record.previous_id)
            # A missing previous was reported above (and the leaf will differ too).
            previous_hash = previous.record_hash if previous else None
            leaf = merkle.leaf_hash(record_hash_material(record, previous_hash))
            self.leaves[str(record.pk)] = (leaf, user_id)
            if record.choice == Choice.OPT_IN:
                self.opt_in_owner[str(record.pk)] = user_id
        if tips:
            tip = max(tips, key=lambda r: (r.decided_at, str(r.pk)))
            self.tips[user_id] = _Tip(str(tip.pk), tip.record_hash, tip.choice, tip.policy_id)

    # --- the log and its heads --------------------------------------------------------

    def check_log(self) -> None:
        heads = self._verified_heads()
        sizes = sorted(heads)
        tree = merkle.CompactRange()
        tree_leaves: list[bytes] = []
        next_size = 0
        entries = LogEntry.objects.order_by("leaf_index", "id").values_list(
            "kind", "object_id", "leaf_index", "leaf_hash"
        )
        bar = self.progress(total=LogEntry.objects.count(), desc="log")
        expected_index = 0
        for kind, object_id, leaf_index, stored_hex in entries.iterator(chunk_size=20_000):
            bar.update(1)
            self.report.leaves_checked += 1
            stored = bytes.fromhex(stored_hex)
            leaf = stored
            if kind == RECORD_LEAF_KIND:
                recomputed = self.leaves.pop(object_id, None)
                where = f"leaf {leaf_index}" if leaf_index is not None else "unsequenced leaf"
                if recomputed is None:
                    self.add(f"record {object_id}", f"is in the log ({where}) but missing")
                else:
                    leaf, user_id = recomputed
                    if leaf != stored:
                        self.add(
                            _record_subject(object_id, user_id),
                            f"differs from what the log recorded ({where})",
                        )
            if leaf_index is None:
                continue
            if leaf_index != expected_index:
                self.add(f"leaf {expected_index}", f"is missing (next leaf is {leaf_index})")
            expected_index = leaf_index + 1
            tree.append(leaf)
            tree_leaves.append(leaf)
            while next_size < len(sizes) and sizes[next_size] == tree.size:
                self._compare_root(heads[sizes[next_size]], tree.root())
                next_size += 1
        bar.close()
        for size in sizes[next_size:]:
            self.add(f"head {size}", f"covers {size} leaves but the log holds {tree.size}")
        for object_id, (_, user_id) in self.leaves.items():
            self.add(_record_subject(object_id, user_id), "is not in the evidence log")
        self._check_consistency(heads, sizes, tree_leaves)

    def _compare_root(self, head: dict, root: bytes) -> None:
        if head["root_hash"] != root.hex():
            self.add(
                f"head {head['tree_size']}",
                "root differs from the records: a record at or before this size was changed, "
                "removed or reordered",
            )

    def _check_consistency(self, heads: dict[int, dict], sizes: list[int], leaves) -> None:
        proofs = merkle.Tree(lambda start, end: leaves[start:end])
        usable = [s for s in sizes if s <= len(leaves)]
        for old, new in pairwise(usable):
            try:
                merkle.verify_consistency(
                    old_size=old,
                    new_size=new,
                    old_root=bytes.fromhex(heads[old]["root_hash"]),
                    new_root=bytes.fromhex(heads[new]["root_hash"]),
                    proof=proofs.consistency_proof(old, new),
                )
            except (merkle.ProofError, ValueError):
                self.add(f"head {new}", f"is not consistent with head {old}")

    def _signature_ok(self, document: dict, trusted: dict[str, bytes]) -> str | None:
        """None if the head's signature is good, else why not."""
        public = trusted.get(document.get("key_id", ""))
        if public is None:
            return "is signed by a key that is not trusted"
        try:
            message = head_signed_bytes(
                tree_size=int(document["tree_size"]),
                root_hash=str(document["root_hash"]),
                timestamp_ms=int(document["timestamp_ms"]),
            )
            signature = base64.b64decode(document["signature"], validate=True)
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
            return "signature does not verify"
        return None

    def _verified_heads(self) -> dict[int, dict]:
        """Size -> head, for every correctly signed head in the sink or the table; the
        sink and the table are compared with each other on the way."""
        trusted = keys.trusted_public_keys()
        in_sink = sink_heads()
        table = list(SignedTreeHead.objects.order_by("tree_size"))
        heads: dict[int, dict] = {}
        for row in table:
            self.report.heads_checked += 1
            document = head_document(row)
            problem = self._signature_ok(document, trusted)
            if problem:
                self.add(f"head {row.tree_size} (table)", problem)
            else:
                heads[row.tree_size] = document
            published = in_sink.pop(row.sink_name, None)
            if published is None:
                self.add(f"head {row.tree_size}", "is in the table but missing from the sink")
            elif published != document:
                self.add(f"head {row.tree_size}", "differs between the table and the sink")
        for name, published in in_sink.items():
            self.report.heads_checked += 1
            if not isinstance(published, dict):
                self.add(f"sink file {name}", "is not a readable signed head")
                continue
            size = published.get("tree_size")
            self.add(f"head {size} ({name})", "is in the sink but missing from the table")
            problem = self._signature_ok(published, trusted)
            if problem:
                self.add(f"head {size} (sink)", problem)
            elif size not in heads:
                heads[size] = published
        return heads

    # --- state rows and what points at records -------------------------------------------

    def check_states(self) -> None:
        states = UserConsentState.objects.values_list(
            "user_id", "choice", "policy_id", "latest_record_id", "tip_hash"
        )
        seen: set[int] = set()
        for user_id, choice, policy_id, latest_id, tip_hash in states.iterator(chunk_size=10_000):
            self.report.states_checked += 1
            seen.add(user_id)
            tip = self.tips.get(user_id)
            subject = f"user {user_id}"
            if tip is None:
                self.add(subject, "has a consent state but no chain of records")
                continue
            if str(latest_id) != tip.pk:
                self.add(subject, f"state names record {latest_id}, the chain's tip is {tip.pk}")
            if tip_hash != tip.record_hash:
                self.add(subject, "state's tip hash differs from the chain tip's hash")
            if choice != tip.choice:
                self.add(subject, f"state says {choice}, the chain tip says {tip.choice}")
            if policy_id != tip.policy_id:
                self.add(subject, "state's policy differs from the chain tip's policy")
        for user_id in self.tips.keys() - seen:
            self.add(f"user {user_id}", "has records but no consent state")

    def check_references(self) -> None:
        for reference in RECORD_REFERENCES.values():
            for pk, user_id, record_id in reference.rows():
                if self.opt_in_owner.get(str(record_id)) != user_id:
                    self.add(
                        f"{reference.subject} {pk} (user {user_id})",
                        f"{reference.claim} {record_id}, which is not an opt-in of that user",
                    )


class _NoProgress:
    def __init__(self, *args, **kwargs):
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def evidence_verify(*, progress=None) -> Report:
    """Run every check; ``progress`` is a tqdm-like factory (None: silent)."""
    verifier = _Verifier(progress=progress or _NoProgress)
    verifier.check_chains()
    verifier.check_log()
    verifier.check_states()
    verifier.check_references()
    return verifier.report


def evidence_verify_and_record(*, progress=None) -> tuple[Report, VerificationRun]:
    """Verify, keep the outcome for admin, and log every finding at ERROR."""
    started_at = timezone.now()
    report = evidence_verify(progress=progress)
    for finding in report.findings:
        logger.error("evidence verification: %s", finding)
    run = VerificationRun.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        status=VerificationRun.Status.PASSED if report.passed else VerificationRun.Status.FAILED,
        records_checked=report.records_checked,
        heads_checked=report.heads_checked,
        finding_count=len(report.findings),
        findings=[str(f) for f in report.findings[:FINDINGS_KEPT]],
    )
    if report.passed:
        logger.info("%s", report.summary())
    return report, run
