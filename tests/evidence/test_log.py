"""The evidence log: append-only below the ORM, sequenced once without gaps, signed heads
in the table and the sink."""

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consent.models import Choice, ConsentRecord, Surface
from consent.services import consent_record_create
from evidence import checks, keys, merkle, services
from evidence.models import LogEntry, SequencerState, SignedTreeHead
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _append(n: int, prefix: str = "object") -> list[LogEntry]:
    return [
        services.log_entry_append(
            kind="test.item", object_id=f"{prefix}-{i}", data=f"{prefix}{i}".encode()
        )
        for i in range(n)
    ]


def test_sequencer_gives_every_committed_entry_one_index_without_gaps():
    # Given entries whose ids do not follow the order in which they became visible:
    # ids 1-3 are "committed" first, then a late transaction's entries land in between.
    first = _append(3, "early")
    services.log_sequence()
    late = _append(4, "late")

    # When the sequencer runs again
    services.log_sequence()

    # Then each entry has exactly one index and the indexes are 0..n-1
    indexes = sorted(LogEntry.objects.values_list("leaf_index", flat=True))
    assert indexes == list(range(len(first) + len(late)))
    assert LogEntry.objects.filter(leaf_index__isnull=True).count() == 0


def test_an_entry_committed_after_a_higher_id_is_sequenced_later_not_skipped():
    # Given id 20 is committed and sequenced while the transaction holding id 10 is in flight
    late_committer = LogEntry(
        kind="test.item", object_id="ten", leaf_hash="aa" * 32, created_at=timezone.now()
    )
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                id=20,
                kind="test.item",
                object_id="twenty",
                leaf_hash="bb" * 32,
                created_at=timezone.now(),
            )
        ]
    )
    services.log_sequence()

    # When id 10 commits afterwards and the sequencer runs again
    late_committer.id = 10
    late_committer.save(force_insert=True)
    services.log_sequence()

    # Then it is appended after 20, not skipped and not slotted before an already signed leaf
    assert LogEntry.objects.get(pk=20).leaf_index == 0
    assert LogEntry.objects.get(pk=10).leaf_index == 1


def test_sequencer_extends_the_tree_from_its_frontier_to_the_same_root_as_from_scratch():
    _append(5, "a")
    services.log_sequence()
    _append(6, "b")
    services.log_sequence(batch_size=4)
    services.log_sequence(batch_size=4)

    state = SequencerState.objects.get()
    leaves = [
        bytes.fromhex(h)
        for h in LogEntry.objects.order_by("leaf_index").values_list("leaf_hash", flat=True)
    ]
    assert state.tree_size == 11
    assert state.root_hash == merkle.root_of(leaves).hex()


def test_log_entry_cannot_be_edited_or_deleted():
    entry = _append(1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(leaf_hash="0" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()


def test_leaf_index_is_written_once_only():
    entry = _append(1)[0]
    services.log_sequence()
    with pytest.raises(IntegrityError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(leaf_index=7)


def test_sequencing_may_not_change_anything_but_the_index():
    entry = _append(1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(leaf_index=0, object_id="other")


def test_checkpoint_signs_a_head_into_the_table_and_the_sink(evidence_sink):
    _append(3)

    checkpoint = services.checkpoint()

    head = checkpoint.head
    assert checkpoint.sequenced == 3
    assert head.tree_size == 3
    published = json.loads((evidence_sink / head.sink_name).read_text())
    assert published["root_hash"] == head.root_hash
    public = keys.signing_key().public_key()
    assert published["key_id"] == keys.key_id(keys.public_raw(public))
    Ed25519PublicKey.from_public_bytes(keys.public_raw(public)).verify(
        base64.b64decode(published["signature"]),
        services.head_signed_bytes(
            tree_size=3, root_hash=head.root_hash, timestamp_ms=head.timestamp_ms
        ),
    )


def test_checkpoint_without_new_entries_signs_nothing():
    _append(2)
    services.checkpoint()

    assert services.checkpoint().head is None
    assert SignedTreeHead.objects.count() == 1


def test_signed_head_cannot_be_edited_or_deleted():
    _append(1)
    head = services.checkpoint().head
    with pytest.raises(IntegrityError), transaction.atomic():
        SignedTreeHead.objects.filter(pk=head.pk).update(root_hash="0" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignedTreeHead.objects.filter(pk=head.pk).delete()


def test_a_head_already_in_the_sink_is_never_overwritten(evidence_sink):
    _append(1)
    (evidence_sink / "tree-heads").mkdir(parents=True)
    (evidence_sink / services.sink_name(1)).write_text("{}")

    with pytest.raises(services.SinkError):
        services.checkpoint()

    assert (evidence_sink / services.sink_name(1)).read_text() == "{}"


def _checkpoint_queries(new_entries: int) -> int:
    from django.test.utils import CaptureQueriesContext

    _append(new_entries, f"batch{LogEntry.objects.count()}")
    with CaptureQueriesContext(connection) as queries:
        services.checkpoint()
    return len(queries)


def test_checkpoint_statements_do_not_grow_with_the_log():
    _append(1, "first")
    services.checkpoint()  # creates the sequencer's state row
    small_log = _checkpoint_queries(3)
    _append(200, "filler")
    services.checkpoint()

    # No leaf before the frontier is read: the same statements at 3 and at 206 leaves.
    assert _checkpoint_queries(3) == small_log


def test_the_log_append_may_be_off_under_the_bench_settings_only(settings):
    settings.EVIDENCE_LOG_APPEND = False

    assert [e.id for e in checks.log_append_on(None)] == ["evidence.E001"]
    settings.SETTINGS_MODULE = checks.BENCH_SETTINGS
    assert checks.log_append_on(None) == []


def test_with_the_append_off_nothing_is_queued(settings):
    settings.EVIDENCE_LOG_APPEND = False

    services.log_entry_append(kind="test", object_id="1", data=b"x")

    assert not LogEntry.objects.exists()


def test_with_the_append_off_a_decision_is_recorded_without_a_leaf(settings):
    settings.EVIDENCE_LOG_APPEND = False
    policy = PolicyFactory(effective_at=timezone.now() - timedelta(days=1))

    record = consent_record_create(
        user=UserFactory(),
        policy=policy,
        choice=Choice.OPT_IN,
        surface=Surface.SETTINGS,
        form_key="append-off",
        shown_at=timezone.now(),
    )

    assert ConsentRecord.objects.filter(pk=record.pk).exists()
    assert not LogEntry.objects.exists()
