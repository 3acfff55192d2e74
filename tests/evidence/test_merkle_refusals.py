"""What the Merkle code refuses: proofs asked or checked for positions and sizes that do not
exist, proofs moved to another leaf, and stored state that cannot be a tree (RFC 9162 §2.1)."""

import pytest

from evidence import merkle


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"record {i}".encode()) for i in range(n)]


def _tree(leaves: list[bytes]) -> merkle.Tree:
    return merkle.Tree(lambda start, end: leaves[start:end], cache_from=2)


@pytest.mark.parametrize(("index", "size"), [(5, 5), (6, 5), (-1, 5), (0, 0)])
def test_no_inclusion_proof_is_made_for_a_leaf_outside_the_tree(index, size):
    tree = _tree(_leaves(8))

    with pytest.raises(merkle.ProofError, match=f"leaf {index} is not in a tree of {size}"):
        tree.inclusion_proof(index, size)


@pytest.mark.parametrize(("old_size", "new_size"), [(6, 5), (-1, 5), (1, 0)])
def test_no_consistency_proof_is_made_towards_a_smaller_tree(old_size, new_size):
    tree = _tree(_leaves(8))

    with pytest.raises(merkle.ProofError, match=f"from {old_size} to {new_size} leaves"):
        tree.consistency_proof(old_size, new_size)


@pytest.mark.parametrize("size", range(1, 18))
def test_an_inclusion_proof_proves_its_own_leaf_position_and_no_other(size):
    # A receipt whose leaf index was edited must not verify with the proof it carries,
    # neither for its own leaf nor for the leaf that really sits at the edited index.
    leaves = _leaves(size)
    tree = _tree(leaves)
    root = tree.root(0, size)
    for index in range(size):
        proof = tree.inclusion_proof(index, size)
        merkle.verify_inclusion(index=index, size=size, leaf=leaves[index], proof=proof, root=root)
        for claimed in set(range(size)) - {index}:
            for leaf in (leaves[index], leaves[claimed]):
                with pytest.raises(merkle.ProofError):
                    merkle.verify_inclusion(
                        index=claimed, size=size, leaf=leaf, proof=proof, root=root
                    )


@pytest.mark.parametrize(
    ("proved_size", "claimed_size", "message"),
    [(8, 2, "too long"), (8, 1, "too long"), (2, 8, "too short"), (3, 16, "too short")],
)
def test_an_inclusion_proof_checked_against_a_tree_size_of_another_depth_is_refused(
    proved_size, claimed_size, message
):
    leaves = _leaves(16)
    tree = _tree(leaves)
    proof = tree.inclusion_proof(0, proved_size)

    with pytest.raises(merkle.ProofError, match=message):
        merkle.verify_inclusion(
            index=0, size=claimed_size, leaf=leaves[0], proof=proof, root=tree.root(0, proved_size)
        )


def test_every_pair_of_log_sizes_is_proved_consistent_and_not_in_reverse():
    leaves = _leaves(17)
    tree = _tree(leaves)
    for new_size in range(1, 18):
        for old_size in range(1, new_size + 1):
            old_root, new_root = tree.root(0, old_size), tree.root(0, new_size)
            proof = tree.consistency_proof(old_size, new_size)

            merkle.verify_consistency(
                old_size=old_size,
                new_size=new_size,
                old_root=old_root,
                new_root=new_root,
                proof=proof,
            )
            if old_size < new_size:
                # A head may never claim the log shrank, whatever proof comes with it.
                with pytest.raises(merkle.ProofError, match="cannot extend"):
                    merkle.verify_consistency(
                        old_size=new_size,
                        new_size=old_size,
                        old_root=new_root,
                        new_root=old_root,
                        proof=proof,
                    )


@pytest.mark.parametrize(("size", "hashes"), [(5, 1), (5, 3), (4, 0), (0, 1)])
def test_a_frontier_that_does_not_match_its_size_is_refused(size, hashes):
    # The sequencer resumes from a stored frontier; a wrong one would extend a different tree.
    frontier = _leaves(hashes)

    with pytest.raises(ValueError, match="one hash per set bit"):
        merkle.CompactRange(size, frontier)


def test_levels_refuse_leaves_that_are_not_whole_hashes():
    data = b"".join(_leaves(3))

    with pytest.raises(ValueError, match="whole 32-byte hashes"):
        merkle.Levels(data[:-1])


def test_levels_answer_only_for_subtrees_the_leaves_complete():
    leaves = _leaves(5)
    levels = merkle.Levels(b"".join(leaves))

    assert levels.node(0, 4) == leaves[4]
    assert levels.node(2, 0) == merkle.root_of(leaves[:4])
    # Leaves 4..5 and 0..7 are not complete in a tree of five: not a short or empty hash.
    assert levels.node(1, 2) is None
    assert levels.node(3, 0) is None
    assert levels.node(0, 5) is None


@pytest.mark.parametrize("size", [-1, 6, 100])
def test_levels_give_no_root_for_a_size_they_do_not_hold(size):
    levels = merkle.Levels(b"".join(_leaves(5)))

    with pytest.raises(ValueError, match=f"no tree of {size} leaves in 5"):
        levels.root(size)


def test_levels_root_of_no_leaves_is_the_empty_tree_root():
    assert merkle.Levels(b"").root(0) == merkle.EMPTY_ROOT
    assert merkle.Levels(b"".join(_leaves(3))).root(0) == merkle.EMPTY_ROOT
