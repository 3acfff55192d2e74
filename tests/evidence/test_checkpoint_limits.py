"""Checkpoints do bounded work, resume from stored state only if it is a tree, and never
publish a head under a name other than its own."""

import logging

import pytest

from evidence import errors, merkle, services
from evidence.models import LogEntry, SequencerState, SignedTreeHead

pytestmark = pytest.mark.django_db


def _append(n: int, prefix: str) -> None:
    for i in range(n):
        services.log_entry_append(
            kind="test.item", object_id=f"{prefix}-{i}", data=f"{prefix}{i}".encode()
        )


def test_a_backlog_beyond_max_batches_is_signed_in_part_and_finished_by_the_next_checkpoint(
    settings,
):
    settings.EVIDENCE_SEQUENCE_BATCH_SIZE = 2
    _append(5, "backlog")

    first = services.checkpoint(max_batches=2)

    # Two batches of two: the head covers the four sequenced leaves, one entry waits.
    assert first.sequenced == 4
    assert first.head.tree_size == 4
    assert LogEntry.objects.filter(leaf_index__isnull=True).count() == 1

    second = services.checkpoint(max_batches=2)

    assert second.sequenced == 1
    assert second.head.tree_size == 5
    leaves = [
        bytes.fromhex(h)
        for h in LogEntry.objects.order_by("leaf_index").values_list("leaf_hash", flat=True)
    ]
    assert second.head.root_hash == merkle.root_of(leaves).hex()
    assert first.head.root_hash == merkle.root_of(leaves[:4]).hex()


def test_the_sequencer_refuses_to_extend_a_frontier_that_lost_a_hash():
    _append(3, "early")
    services.log_sequence()
    state = SequencerState.objects.get()
    assert len(state.frontier) == 2  # three leaves: a pair and a single
    SequencerState.objects.filter(pk=1).update(frontier=state.frontier[:1])
    _append(2, "late")

    with pytest.raises(ValueError, match="one hash per set bit"):
        services.log_sequence()

    # Nothing of the failed step stays: the late entries wait, the stored tree is unchanged.
    assert LogEntry.objects.filter(leaf_index__isnull=True).count() == 2
    assert SequencerState.objects.get().tree_size == 3


def test_a_head_the_sink_would_store_under_another_name_is_refused(
    evidence_sink, monkeypatch, caplog
):
    # Another checkpointer publishes the same size just after the existence check; the file
    # backend then saves under a new name instead of overwriting.
    _append(1, "race")
    sink = services.sink_storage()
    check_exists = sink.exists
    rival = evidence_sink / services.sink_name(1)

    def exists_then_rival_writes(name):
        answer = check_exists(name)
        if not rival.exists():
            rival.parent.mkdir(parents=True)
            rival.write_text("{}")
        return answer

    monkeypatch.setattr(sink, "exists", exists_then_rival_writes)

    with (
        caplog.at_level(logging.ERROR, logger="evidence.services"),
        pytest.raises(services.SinkError, match="already in the evidence sink") as refused,
    ):
        services.checkpoint()

    assert str(refused.value) == errors.SINK_HEAD_EXISTS
    assert rival.read_text() == "{}"
    assert "evidence tree head 1 was not written to the sink" in caplog.text
    # The signed row stays for verification to report the table and sink diverged.
    assert SignedTreeHead.objects.filter(tree_size=1).exists()
