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

One query streams the records joined with their log entries, sorted by user: each chain,
its leaves and its state row are checked as the user's last record goes by, so nothing
is kept per record but 32 bytes of leaf (and the owner of each opt-in, for references).
The tree is then built level by level from those leaves, giving the root at every head's
size, the consistency proofs and the stored nodes' check without hashing anything twice.
Everything is read in one REPEATABLE READ snapshot on PostgreSQL.
"""

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from json.encoder import encode_basestring

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction
from django.utils import timezone

from evidence import keys, merkle
from evidence.models import NODE_LEVEL_MIN, LogEntry, SignedTreeHead, TreeNode, VerificationRun
from evidence.selectors import sink_heads
from evidence.services import head_document, head_signed_bytes

from .chain import (
    CHAIN_STARTS,
    GENESIS,
    HASH_MISMATCH,
    HASHED_FIELDS,
    HASHED_IF_SET,
    PREVIOUS_MISSING,
    record_canonical,
)
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


# --- reading records fast --------------------------------------------------------------
#
# A million records through the ORM spend most of their time in per-row Python: psycopg's
# pure-Python timestamptz loader, UUID objects, a dict per record for json.dumps. Here the
# database hands over text (timestamps already in the ISO form consent.chain hashes, UUIDs
# as text) and the canonical JSON is assembled from fragments in consent.chain's key
# order. ``_canonical_check`` compares the result with ``record_canonical`` on a real
# record at the start of every run, so the two can never silently drift apart.

_DATETIME_PG = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
_UUID_SQLITE = (
    "substr({0}, 1, 8) || '-' || substr({0}, 9, 4) || '-' || substr({0}, 13, 4) || '-' "
    "|| substr({0}, 17, 4) || '-' || substr({0}, 21, 12)"
)


def _field_kind(name: str) -> str:
    field = ConsentRecord._meta.get_field(name)
    if field.is_relation:
        field = field.target_field
    internal = field.get_internal_type()
    if internal == "UUIDField":
        return "uuid"
    if internal == "DateTimeField":
        return "datetime"
    if internal == "JSONField":
        return "json"
    if internal == "BooleanField":
        return "bool"
    if internal in ("CharField", "TextField", "EmailField", "SlugField"):
        return "str"
    if internal.endswith("IntegerField") or internal.endswith("AutoField"):
        return "int"
    raise NotImplementedError(f"consent.chain hashes {name}, a {internal} the verifier cannot read")


def _column_sql(kind: str, column: str, vendor: str) -> str:
    if vendor == "postgresql":
        if kind == "uuid":
            return f"{column}::text"
        if kind == "datetime":
            return _DATETIME_PG.format(column)
        if kind == "json":
            return f"{column}::text"
    elif kind == "uuid":
        return _UUID_SQLITE.format(column)
    return column


class _Canonical:
    """Builds consent.chain's canonical JSON from a row of the records query."""

    def __init__(self, vendor: str):
        self.vendor = vendor
        self.names = [*HASHED_FIELDS, *HASHED_IF_SET]
        self.kinds = {name: _field_kind(name) for name in self.names}
        self._json_memo: dict[str, str] = {}
        encoders = {
            "str": encode_basestring,
            "int": str,
            "bool": lambda v: "true" if v else "false",
            "uuid": lambda v: f'"{v}"',
            "datetime": (
                (lambda v: f'"{v}+00:00"')
                if vendor == "postgresql"
                # Django's SQLite converter hands back naive UTC datetimes.
                else (lambda v: f'"{v.isoformat(timespec="microseconds")}+00:00"')
            ),
            "json": self._json,
        }
        # (column position, '"key":', encoder, hashed only when set), in sorted key order.
        self.plan = [
            (
                self.names.index(name),
                encode_basestring(name) + ":",
                encoders[self.kinds[name]],
                name in HASHED_IF_SET,
            )
            for name in sorted(self.names)
        ]

    def select_list(self, alias: str) -> str:
        return ", ".join(
            _column_sql(
                self.kinds[name],
                f"{alias}.{ConsentRecord._meta.get_field(name).column}",
                self.vendor,
            )
            for name in self.names
        )

    def _json(self, text: str) -> str:
        canonical = self._json_memo.get(text)
        if canonical is None:
            canonical = json.dumps(
                json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            if len(self._json_memo) < 10_000:  # designs' copy repeats; free text would not
                self._json_memo[text] = canonical
        return canonical

    def compile(self):
        """One generated function per run: a single string expression in sorted key order,
        the common kinds inlined (a million calls per run; the loop in ``__call__`` costs
        twice as much). Columns that may not be null are not tested for it: a null there
        (a constraint dropped by hand) raises TypeError and that row takes the loop."""
        nullable = {name: ConsentRecord._meta.get_field(name).null for name in self.names}
        inline = {
            "str": "eb({})",
            "int": "str({})",
            "bool": "('true' if {} else 'false')",
            "uuid": "'\"' + {} + '\"'",
        }
        if self.vendor == "postgresql":
            inline["datetime"] = "'\"' + {} + '+00:00\"'"
        names: dict = {"eb": encode_basestring}
        pieces = []
        for n, (position, key, encode, optional) in enumerate(self.plan):
            name = sorted(self.names)[n]
            names[f"e{n}"] = encode
            value = f"row[{position}]"
            code = inline.get(self.kinds[name], f"e{n}({{}})").format(value)
            comma = "," if n else ""
            if optional:
                pieces.append(f"(({comma + key!r} + {code}) if {value} is not None else '')")
            elif nullable[name]:
                pieces.append(f"{comma + key!r} + ({code} if {value} is not None else 'null')")
            else:
                pieces.append(f"{comma + key!r} + {code}")
        if self.plan[0][3]:  # an optional first key would need its comma moved: loop instead
            return self.__call__
        source = "def canonical(row):\n    return '{' + " + " + ".join(pieces) + " + '}'\n"
        exec(compile(source, "<consent.verification canonical>", "exec"), names)
        fast, slow = names["canonical"], self.__call__

        def canonical(row) -> str:
            try:
                return fast(row)
            except TypeError:
                return slow(row)

        return canonical

    def __call__(self, row) -> str:
        parts = []
        for position, key, encode, optional in self.plan:
            value = row[position]
            if value is None:
                if optional:
                    continue
                parts.append(key + "null")
            else:
                parts.append(key + encode(value))
        return "{" + ",".join(parts) + "}"


@dataclass
class _Record:
    pk: str
    user_id: int
    previous_id: str | None
    record_hash: str
    choice: str
    policy_id: int
    decided_at: str
    canonical: str
    entries: list = field(default_factory=list)  # (leaf_index, leaf_hash) of its log entries


class _Verifier:
    def __init__(self, *, progress):
        self.report = Report()
        self.progress = progress
        self.vendor = connection.vendor
        self.canonical_form = _Canonical(self.vendor)
        self.canonical = self.canonical_form.compile()
        self.opt_in_owner: dict[str, int] = {}
        self.states: dict[int, tuple] = {}
        self.tree_size = 0
        self.leaves = bytearray()
        self.filled = bytearray()

    def add(self, subject: str, reason: str) -> None:
        self.report.findings.append(Finding(subject, reason))

    # --- records, their chains, their leaves and their state, in one pass -----------------

    def _records_sql(self) -> str:
        record_id = _column_sql("uuid", "r.id", self.vendor)
        return (
            f"SELECT {self.canonical_form.select_list('r')}, r.record_hash, "
            "e.leaf_index, e.leaf_hash "
            f"FROM {ConsentRecord._meta.db_table} r LEFT JOIN {LogEntry._meta.db_table} e "
            f"ON e.kind = %s AND e.object_id = {record_id} "
            "ORDER BY r.user_id, r.decided_at, r.id, e.leaf_index"
        )

    def _canonical_check(self, row) -> None:
        """The fast canonical form equals consent.chain's, on a real record of this run."""
        record = ConsentRecord.objects.get(pk=row[0])
        if self.canonical(row) != record_canonical(record):
            raise RuntimeError(
                "consent.verification builds a record's canonical JSON differently from "
                "consent.chain.record_canonical: fix the verifier before trusting its findings"
            )

    def check_records(self) -> None:
        # As many slots as there are sequenced entries, not MAX(leaf_index) + 1: an index an
        # attacker wrote far out (or below zero) is named by _put, never allocated for.
        self.tree_size = LogEntry.objects.filter(leaf_index__isnull=False).count()
        self.leaves = bytearray(merkle.HASH_SIZE * self.tree_size)
        self.filled = bytearray(self.tree_size)
        states = UserConsentState.objects.values_list(
            "user_id", "choice", "policy_id", "latest_record_id", "tip_hash"
        )
        for user_id, *state in states.iterator(chunk_size=20_000):
            if user_id in self.states:
                self.add(f"user {user_id}", "has more than one consent state")
            self.states[user_id] = tuple(state)
        self.report.states_checked = len(self.states)

        columns = len(self.canonical_form.names)
        at = {name: self.canonical_form.names.index(name) for name in self.canonical_form.names}
        bar = self.progress(total=ConsentRecord.objects.count(), desc="records")
        group: list[_Record] = []
        record: _Record | None = None
        first = True
        with connection.chunked_cursor() as cursor:
            cursor.execute(self._records_sql(), [RECORD_LEAF_KIND])
            while rows := cursor.fetchmany(5000):
                if first:
                    self._canonical_check(rows[0])
                    first = False
                for row in rows:
                    pk = row[at["id"]]
                    if record is None or pk != record.pk:
                        user_id = row[at["user_id"]]
                        if group and group[0].user_id != user_id:
                            self._check_user(group)
                            group = []
                        record = _Record(
                            pk=pk,
                            user_id=user_id,
                            previous_id=row[at["previous_id"]],
                            record_hash=row[columns],
                            choice=row[at["choice"]],
                            policy_id=row[at["policy_id"]],
                            decided_at=row[at["decided_at"]],
                            canonical=self.canonical(row),
                        )
                        group.append(record)
                        bar.update(1)
                    if row[columns + 2] is not None:
                        record.entries.append((row[columns + 1], row[columns + 2]))
        if group:
            self._check_user(group)
        bar.close()
        for user_id in self.states:
            self.add(f"user {user_id}", "has a consent state but no chain of records")

    def _check_user(self, records: list[_Record]) -> None:
        user_id = records[0].user_id
        self.report.records_checked += len(records)
        by_id = {r.pk: r for r in records}
        starts = [r for r in records if r.previous_id is None]
        if len(starts) != 1:
            for r in starts or records[:1]:
                self.add(_record_subject(r.pk, user_id), CHAIN_STARTS.format(count=len(starts)))
        sha256 = hashlib.sha256
        for record in records:
            previous = by_id.get(record.previous_id) if record.previous_id else None
            material = (
                (previous.record_hash if previous else GENESIS) + "\n" + record.canonical
            ).encode()
            if record.previous_id and previous is None:
                self.add(_record_subject(record.pk, user_id), PREVIOUS_MISSING)
            elif sha256(material).hexdigest() != record.record_hash:
                self.add(_record_subject(record.pk, user_id), HASH_MISMATCH)
            self._place_leaf(record, sha256(b"\x00" + material).digest())
            if record.choice == Choice.OPT_IN:
                self.opt_in_owner[record.pk] = user_id
        followed = {r.previous_id for r in records if r.previous_id}
        tips = [r for r in records if r.pk not in followed]
        if len(tips) != 1:
            self.add(f"user {user_id}", f"chain has {len(tips)} tips instead of one")
        state = self.states.pop(user_id, None)
        if not tips:
            return
        tip = max(tips, key=lambda r: (r.decided_at, r.pk))
        self._check_state(user_id, state, _Tip(tip.pk, tip.record_hash, tip.choice, tip.policy_id))

    def _place_leaf(self, record: _Record, leaf: bytes) -> None:
        if not record.entries:
            self.add(_record_subject(record.pk, record.user_id), "is not in the evidence log")
        for leaf_index, stored in record.entries:
            where = f"leaf {leaf_index}" if leaf_index is not None else "unsequenced leaf"
            self.report.leaves_checked += 1
            if leaf.hex() != stored:
                self.add(
                    _record_subject(record.pk, record.user_id),
                    f"differs from what the log recorded ({where})",
                )
            if leaf_index is not None:
                self._put(leaf_index, leaf)

    def _stored_leaf(self, leaf_index: int, stored: str) -> bytes:
        """A stored leaf hash as bytes; a value that is no SHA-256 hex digest is named, and
        stands in the tree as zeros, so every head covering it fails too."""
        try:
            leaf = bytes.fromhex(stored)
        except ValueError:
            leaf = b""
        if len(leaf) != merkle.HASH_SIZE:
            self.add(f"leaf {leaf_index}", "holds a malformed hash (not 64 hex digits)")
            return bytes(merkle.HASH_SIZE)
        return leaf

    def _put(self, leaf_index: int, leaf: bytes) -> None:
        """The tree is built from the leaves recomputed from the records (stored ones only
        where no record exists), so a changed record changes the root at every head."""
        if not 0 <= leaf_index < self.tree_size:
            self.add(
                f"leaf {leaf_index}",
                f"is numbered outside the log's {self.tree_size} sequenced entries "
                "(entries were removed or renumbered)",
            )
            return
        if self.filled[leaf_index]:
            self.add(f"leaf {leaf_index}", "is claimed by more than one log entry")
            return
        self.filled[leaf_index] = 1
        offset = leaf_index * merkle.HASH_SIZE
        self.leaves[offset : offset + merkle.HASH_SIZE] = leaf

    def _check_state(self, user_id: int, state: tuple | None, tip: _Tip) -> None:
        subject = f"user {user_id}"
        if state is None:
            self.add(subject, "has records but no consent state")
            return
        choice, policy_id, latest_id, tip_hash = state
        if str(latest_id) != tip.pk:
            self.add(subject, f"state names record {latest_id}, the chain's tip is {tip.pk}")
        if tip_hash != tip.record_hash:
            self.add(subject, "state's tip hash differs from the chain tip's hash")
        if choice != tip.choice:
            self.add(subject, f"state says {choice}, the chain tip says {tip.choice}")
        if policy_id != tip.policy_id:
            self.add(subject, "state's policy differs from the chain tip's policy")

    # --- the log and its heads --------------------------------------------------------

    def _other_leaves(self):
        """Entries not matched to a record above: other kinds, and records' leaves whose
        record is gone."""
        record_id = _column_sql("uuid", "r.id", self.vendor)
        sql = (
            "SELECT e.kind, e.object_id, e.leaf_index, e.leaf_hash "
            f"FROM {LogEntry._meta.db_table} e WHERE e.kind <> %s OR NOT EXISTS ("
            f"SELECT 1 FROM {ConsentRecord._meta.db_table} r WHERE {record_id} = e.object_id) "
            "ORDER BY e.leaf_index"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [RECORD_LEAF_KIND])
            yield from cursor.fetchall()

    def check_log(self) -> None:
        for kind, object_id, leaf_index, stored in self._other_leaves():
            self.report.leaves_checked += 1
            if kind == RECORD_LEAF_KIND:
                where = f"leaf {leaf_index}" if leaf_index is not None else "unsequenced leaf"
                self.add(f"record {object_id}", f"is in the log ({where}) but missing")
            if leaf_index is not None:
                self._put(leaf_index, self._stored_leaf(leaf_index, stored))
        gap = self.filled.find(0)
        while gap != -1:
            following = self.filled.find(1, gap)
            after = f"next leaf is {following}" if following != -1 else "none follows"
            self.add(f"leaf {gap}", f"is missing ({after})")
            gap = -1 if following == -1 else self.filled.find(0, following)

        levels = merkle.Levels(bytes(self.leaves))
        heads = self._verified_heads()
        sizes = sorted(heads)
        for size in sizes:
            if size > levels.size:
                self.add(f"head {size}", f"covers {size} leaves but the log holds {levels.size}")
            elif heads[size]["root_hash"] != levels.root(size).hex():
                self.add(
                    f"head {size}",
                    "root differs from the records: a record at or before this size was "
                    "changed, removed or reordered",
                )
        self._check_consistency(heads, [s for s in sizes if s <= levels.size], levels)
        self._check_nodes(levels)

    def _check_consistency(self, heads: dict[int, dict], sizes: list[int], levels) -> None:
        proofs = levels.tree()
        for old, new in pairwise(sizes):
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

    def _check_nodes(self, levels) -> None:
        """The stored nodes receipts' proofs are built from equal the recomputed tree."""
        found = 0
        rows = TreeNode.objects.values_list("level", "index", "hash")
        for level, index, stored in rows.iterator(chunk_size=20_000):
            found += 1
            node = levels.node(level, index)
            if node is None:
                self.add(f"tree node {level}/{index}", "lies beyond the log")
            elif node.hex() != stored:
                self.add(
                    f"tree node {level}/{index}",
                    "differs from the records: receipts would carry a proof that fails",
                )
        expected = sum(levels.size >> level for level in range(NODE_LEVEL_MIN, 64))
        if found < expected:
            self.add("tree nodes", f"{expected - found} of {expected} are missing")

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

    # --- what points at records -----------------------------------------------------

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
    # Inside a caller's transaction (tests) it is too late to choose the isolation level.
    outer = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                # One snapshot for every query: a decision made mid-run is not half-seen.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # The records query sorts a million rows: in memory, not on disk.
                cursor.execute("SET LOCAL work_mem = '256MB'")
        verifier = _Verifier(progress=progress or _NoProgress)
        verifier.check_records()
        verifier.check_log()
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
