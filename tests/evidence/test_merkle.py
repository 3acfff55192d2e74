"""RFC 6962 hashing, proofs and the compact range, against published vectors and properties."""

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence import merkle

PROBES = json.loads((Path(__file__).parent / "rfc6962_probes.json").read_text())

# RFC 6962 reference leaves and the root after each prefix (transparency-dev/merkle
# testonly/constants.go: LeafInputs, RootHashes).
LEAF_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
               "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(bytes.fromhex(data)) for data in LEAF_INPUTS[:n]]


def _tree(leaves: list[bytes], cache_from: int = 2) -> merkle.Tree:
    return merkle.Tree(lambda start, end: leaves[start:end], cache_from=cache_from)


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_compact_range_root_matches_the_reference_root_at_every_size(size):
    tree = merkle.CompactRange()
    for leaf in _leaves(size):
        tree.append(leaf)

    assert tree.root().hex() == ROOTS[size]
    assert _tree(_leaves(size)).root(0, size).hex() == ROOTS[size]


def test_compact_range_resumes_from_its_stored_frontier():
    grown = merkle.CompactRange()
    for leaf in _leaves(5):
        grown.append(leaf)

    resumed = merkle.CompactRange(grown.size, list(grown.frontier))
    for leaf in _leaves(8)[5:]:
        resumed.append(leaf)

    assert resumed.root().hex() == ROOTS[8]
    assert len(resumed.frontier) == 1


@pytest.mark.parametrize("probe", PROBES["inclusion"], ids=lambda p: p["desc"])
def test_inclusion_probe(probe):
    def verify():
        merkle.verify_inclusion(
            index=probe["leaf_index"],
            size=probe["tree_size"],
            leaf=bytes.fromhex(probe["leaf_hash"] or ""),
            proof=[bytes.fromhex(p) for p in probe["proof"]],
            root=bytes.fromhex(probe["root"] or ""),
        )

    if probe["valid"]:
        verify()
    else:
        with pytest.raises(merkle.ProofError):
            verify()


@pytest.mark.parametrize("probe", PROBES["consistency"], ids=lambda p: p["desc"])
def test_consistency_probe(probe):
    def verify():
        merkle.verify_consistency(
            old_size=probe["size1"],
            new_size=probe["size2"],
            old_root=bytes.fromhex(probe["root1"] or ""),
            new_root=bytes.fromhex(probe["root2"] or ""),
            proof=[bytes.fromhex(p) for p in probe["proof"]],
        )

    if probe["valid"]:
        verify()
    else:
        with pytest.raises(merkle.ProofError):
            verify()


def test_generated_proofs_equal_the_published_happy_path_proofs():
    leaves = _leaves(8)
    tree = _tree(leaves)
    for probe in PROBES["inclusion"]:
        if probe["valid"] and probe["tree_size"] <= 8 and probe["root"] == ROOTS[8]:
            assert [h.hex() for h in tree.inclusion_proof(probe["leaf_index"], 8)] == probe["proof"]
    for probe in PROBES["consistency"]:
        if probe["valid"] and probe["root2"] == ROOTS[8] and probe["size1"] < 8:
            assert [h.hex() for h in tree.consistency_proof(probe["size1"], 8)] == probe["proof"]


def _flip(hash_: bytes, bit: int) -> bytes:
    position = bit % (len(hash_) * 8)
    altered = bytearray(hash_)
    altered[position // 8] ^= 1 << (position % 8)
    return bytes(altered)


@st.composite
def sized_trees(draw):
    n = draw(st.integers(min_value=1, max_value=300))
    seed = draw(st.binary(min_size=1, max_size=8))
    leaves = [merkle.leaf_hash(seed + i.to_bytes(4, "big")) for i in range(n)]
    return leaves, draw(st.integers(min_value=4, max_value=64))


@given(sized_trees(), st.data())
def test_every_inclusion_proof_verifies_and_any_alteration_fails(tree_and_cache, data):
    leaves, cache_from = tree_and_cache
    n = len(leaves)
    tree = _tree(leaves, cache_from)
    root = tree.root(0, n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = tree.inclusion_proof(index, n)

    merkle.verify_inclusion(index=index, size=n, leaf=leaves[index], proof=proof, root=root)

    bit = data.draw(st.integers(min_value=0, max_value=255))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            index=index, size=n, leaf=_flip(leaves[index], bit), proof=proof, root=root
        )
    if proof:
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        altered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(
                index=index, size=n, leaf=leaves[index], proof=altered, root=root
            )


@given(sized_trees(), st.data())
def test_every_consistency_proof_verifies_and_any_alteration_fails(tree_and_cache, data):
    leaves, cache_from = tree_and_cache
    n = len(leaves)
    m = data.draw(st.integers(min_value=1, max_value=n))
    tree = _tree(leaves, cache_from)
    old_root, new_root = merkle.root_of(leaves[:m]), tree.root(0, n)
    proof = tree.consistency_proof(m, n)

    merkle.verify_consistency(
        old_size=m, new_size=n, old_root=old_root, new_root=new_root, proof=proof
    )

    if proof:
        bit = data.draw(st.integers(min_value=0, max_value=255))
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        altered = [*proof[:at], _flip(proof[at], bit), *proof[at + 1 :]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                old_size=m, new_size=n, old_root=old_root, new_root=new_root, proof=altered
            )
    if m < n:
        rewritten = [*leaves[: m - 1], _flip(leaves[m - 1], 1), *leaves[m:]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                old_size=m,
                new_size=n,
                old_root=merkle.root_of(rewritten[:m]),
                new_root=new_root,
                proof=proof,
            )


@given(size=st.integers(0, 300), data=st.data())
def test_levels_give_the_root_and_proofs_of_every_size(size, data):
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
    levels = merkle.Levels(b"".join(leaves))
    reference = merkle.Tree(lambda start, end: leaves[start:end])
    prefix = data.draw(st.integers(0, size), label="prefix")

    assert levels.root(prefix) == merkle.root_of(leaves[:prefix])
    if prefix:
        index = data.draw(st.integers(0, prefix - 1), label="leaf")
        old = data.draw(st.integers(1, prefix), label="old size")
        tree = levels.tree()
        assert tree.inclusion_proof(index, prefix) == reference.inclusion_proof(index, prefix)
        assert tree.consistency_proof(old, prefix) == reference.consistency_proof(old, prefix)
