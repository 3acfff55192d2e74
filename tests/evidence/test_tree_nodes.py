"""Receipts' inclusion proofs read O(log n) rows: the sequencer stores the roots of the
log's complete subtrees (``evidence.TreeNode``), and a proof built from them equals the
one built from every leaf."""

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence import merkle
from evidence.db import trigger_statements
from evidence.models import NODE_LEVEL_MIN, SignedTreeHead, TreeNode
from evidence.selectors import inclusion_proof
from evidence.services import log_entries_append, log_sequence

pytestmark = pytest.mark.django_db

KIND = "test.leaf"


def _data(i: int) -> bytes:
    return f"leaf {i}".encode()


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(_data(i)) for i in range(n)]


def _log(batches: list[int]) -> int:
    """Append and sequence leaves 0, 1, ... in the given batch sizes; the log's size."""
    size = 0
    for batch in batches:
        log_entries_append((KIND, str(i), _data(i)) for i in range(size, size + batch))
        log_sequence()
        size += batch
    return size


def _head(size: int) -> SignedTreeHead:
    # The proof only needs the head's size; its signature is checked elsewhere.
    return SignedTreeHead.objects.create(
        tree_size=size,
        root_hash=merkle.root_of(_leaves(size)).hex(),
        timestamp_ms=0,
        key_id="test",
        signature="test",
        sink_name=f"test-{size}.json",
    )


def test_sequencer_stores_every_complete_subtree_of_16_leaves_or_more():
    size = _log([7, 30, 64, 1])

    levels = merkle.Levels(b"".join(_leaves(size)))
    expected = {
        (level, index): levels.node(level, index).hex()
        for level in range(NODE_LEVEL_MIN, size.bit_length())
        for index in range(size >> level)
    }
    stored = {(lv, i): h for lv, i, h in TreeNode.objects.values_list("level", "index", "hash")}
    assert stored == expected


def test_a_stored_node_cannot_be_changed():
    _log([16])
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        TreeNode.objects.update(hash="0" * 64)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.integers(1, 70), min_size=1, max_size=5), data=st.data())
def test_receipt_proof_from_stored_nodes_equals_the_proof_from_every_leaf(batches, data):
    with transaction.atomic():
        size = _log(batches)
        head_size = data.draw(st.integers(1, size), label="head size")
        index = data.draw(st.integers(0, head_size - 1), label="leaf")
        _head(head_size)

        proof = inclusion_proof(kind=KIND, object_id=str(index))

        leaves = _leaves(size)
        from_scratch = merkle.Tree(lambda start, end: leaves[start:end])
        assert proof.proof == [h.hex() for h in from_scratch.inclusion_proof(index, head_size)]
        merkle.verify_inclusion(
            index=index,
            size=head_size,
            leaf=leaves[index],
            proof=[bytes.fromhex(h) for h in proof.proof],
            root=merkle.root_of(leaves[:head_size]),
        )
        transaction.set_rollback(True)


@pytest.mark.parametrize("size", [40, 5000])
def test_receipt_proof_reads_the_same_few_rows_at_any_log_size(size, django_assert_max_num_queries):
    _log([size])
    _head(size)

    # The entry, the head, the stored nodes, the leaves below them: 4 at 40 leaves or 5,000,
    # and never every leaf (the fallback for a log without stored nodes).
    with django_assert_max_num_queries(4) as queries:
        proof = inclusion_proof(kind=KIND, object_id=str(size // 3))

    assert proof is not None
    every_leaf_up_to = '"leaf_index" <'  # the fallback's read (evidence.selectors.leaf_hashes)
    assert not any(every_leaf_up_to in q["sql"] for q in queries.captured_queries)


def test_receipt_proof_without_stored_nodes_still_comes_from_the_leaves():
    size = _log([100])
    _head(size)
    with connection.cursor() as cursor:  # a log sequenced before nodes were kept
        for sql in trigger_statements(connection.vendor, "evidence_treenode")[1]:
            cursor.execute(sql, None)
        TreeNode.objects.all().delete()

    proof = inclusion_proof(kind=KIND, object_id="37")

    leaves = _leaves(size)
    from_scratch = merkle.Tree(lambda start, end: leaves[start:end])
    assert proof.proof == [h.hex() for h in from_scratch.inclusion_proof(37, size)]
