"""The Merkle tree of RFC 6962 §2.1 (Certificate Transparency), over 32-byte SHA-256 hashes.

Pure functions and one small class, no Django: ``tools/verify_receipt.py`` carries its own
copy of the two verifiers so that it runs with nothing but the standard library and
``cryptography``.

- leaf hash  = SHA-256(0x00 || data)
- node hash  = SHA-256(0x01 || left || right)
- the root of n leaves splits at k, the largest power of two smaller than n.

The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 (the same algorithms as RFC 6962,
written out as loops).
"""

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it claims."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The right edge of a tree of ``size`` leaves: one hash per set bit of ``size``.

    Appending a leaf merges equal-sized perfect subtrees like a binary counter carries,
    so extending the tree by m leaves costs O(m) hashes, never a recomputation; the
    root folds the O(log n) frontier from the right.
    """

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()):
        if len(frontier) != bin(size).count("1"):
            raise ValueError("a compact range holds one hash per set bit of its size")
        self.size = size
        self.frontier = list(frontier)

    def append(self, leaf: bytes, *, on_node: Callable[[int, int, bytes], None] | None = None):
        """Add a leaf; ``on_node(level, index, hash)`` sees each perfect subtree it completes
        (level 1 = two leaves; index counts subtrees of that level from the left)."""
        self.frontier.append(leaf)
        carry = self.size
        level = 0
        while carry & 1:
            right = self.frontier.pop()
            left = self.frontier.pop()
            node = node_hash(left, right)
            self.frontier.append(node)
            carry >>= 1
            level += 1
            if on_node is not None:
                on_node(level, ((self.size + 1) >> level) - 1, node)
        self.size += 1

    def root(self) -> bytes:
        if not self.frontier:
            return EMPTY_ROOT
        root = self.frontier[-1]
        for left in reversed(self.frontier[:-1]):
            root = node_hash(left, root)
        return root


class Tree:
    """Proofs over the leaf hashes of a log, read through ``leaves(start, end)``.

    Perfect subtrees of at least ``cache_from`` leaves are memoised, so the proofs of one
    verification pass share work; smaller ones are hashed from their leaves. ``nodes``
    (level, index) -> hash or None, if given, is asked first for any perfect subtree of
    two leaves or more: stored nodes (``evidence.TreeNode``) or a verifier's levels.
    """

    def __init__(
        self,
        leaves: Callable[[int, int], Sequence[bytes]],
        *,
        cache_from: int = 256,
        nodes: Callable[[int, int], bytes | None] | None = None,
    ):
        self._leaves = leaves
        self._cache_from = cache_from
        self._cache: dict[tuple[int, int], bytes] = {}
        self._nodes = nodes

    def root(self, start: int, end: int) -> bytes:
        """MTH(D[start:end])."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if self._nodes is not None and n > 1 and n & (n - 1) == 0 and start % n == 0:
            stored = self._nodes(n.bit_length() - 1, start // n)
            if stored is not None:
                return stored
        if n > 1 and n & (n - 1) == 0 and n >= self._cache_from:
            key = (start, n)
            if key not in self._cache:
                half = n // 2
                self._cache[key] = node_hash(
                    self.root(start, start + half), self.root(start + half, end)
                )
            return self._cache[key]
        if n <= self._cache_from:
            compact = CompactRange()
            for leaf in self._leaves(start, end):
                compact.append(leaf)
            return compact.root()
        k = _split(n)
        return node_hash(self.root(start, start + k), self.root(start + k, end))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 §2.1.1."""
        if not 0 <= index < size:
            raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index - start < k:
                proof.append(self.root(start + k, end))
                end = start + k
            else:
                proof.append(self.root(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 6962 §2.1.2."""
        if not 0 <= old_size <= new_size:
            raise ProofError(f"no consistency proof from {old_size} to {new_size} leaves")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end, whole = 0, new_size, True
        m = old_size
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self.root(start + k, end))
                end = start + k
            else:
                proof.append(self.root(start, start + k))
                m -= k
                start += k
                whole = False
        if not whole:
            proof.append(self.root(start, end))
        proof.reverse()
        return proof


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The (level, index) of each perfect subtree whose root MTH(D[start:end]) folds, left
    to right, as the proofs' recursion splits it (start is aligned as that recursion makes
    it: 0, or a multiple of a power of two at least end - start)."""
    subtrees = []
    while end > start:
        n = end - start
        # A perfect remainder is the last piece; otherwise split off the largest power of two.
        k = n if n & (n - 1) == 0 else _split(n)
        subtrees.append((k.bit_length() - 1, start // k))
        start += k
    return subtrees


class Levels:
    """Every level of the tree over ``leaves`` (32-byte hashes, concatenated), built bottom
    up in one pass: level k holds the roots of the aligned perfect subtrees of 2**k leaves.

    Memory is twice the leaves' (64 MB for a million); any subtree root is then a slice,
    so the root at every head's size and every consistency proof cost O(log n) each.
    """

    def __init__(self, leaves: bytes):
        if len(leaves) % HASH_SIZE:
            raise ValueError("leaves are whole 32-byte hashes")
        self.size = len(leaves) // HASH_SIZE
        self.levels = [bytes(leaves)]
        sha256 = hashlib.sha256
        below = self.levels[0]
        while len(below) >= 2 * HASH_SIZE:
            pairs = len(below) // (2 * HASH_SIZE)
            above = bytearray(pairs * HASH_SIZE)
            for i in range(pairs):
                start = i * 2 * HASH_SIZE
                above[i * HASH_SIZE : (i + 1) * HASH_SIZE] = sha256(
                    b"\x01" + below[start : start + 2 * HASH_SIZE]
                ).digest()
            below = bytes(above)
            self.levels.append(below)

    def node(self, level: int, index: int) -> bytes | None:
        if level >= len(self.levels):
            return None
        data = self.levels[level]
        offset = index * HASH_SIZE
        if offset + HASH_SIZE > len(data):
            return None
        return data[offset : offset + HASH_SIZE]

    def root(self, size: int) -> bytes:
        """MTH(D[0:size]) for any size up to the leaves held."""
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of {size} leaves in {self.size}")
        if size == 0:
            return EMPTY_ROOT
        parts = [self.node(level, index) for level, index in perfect_subtrees(0, size)]
        root = parts[-1]
        for left in reversed(parts[:-1]):
            root = node_hash(left, root)
        return root

    def tree(self) -> "Tree":
        """Proofs over these levels, no leaf read twice."""
        return Tree(self._leaves, nodes=self.node)

    def _leaves(self, start: int, end: int) -> list[bytes]:
        data = self.levels[0]
        return [data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(start, end)]


def root_of(leaves: Sequence[bytes]) -> bytes:
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


def _require_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"every hash is {HASH_SIZE} bytes")


def verify_inclusion(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless ``proof`` puts ``leaf`` at ``index`` of the tree with ``root``."""
    _require_hashes(leaf, root, *proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
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
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless the tree ``new_root`` extends the tree ``old_root``."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {new_size} leaves cannot extend one of {old_size}")
    if old_size == 0:
        # Every tree extends the empty one; a proof of it proves nothing (as the Go verifier).
        raise ProofError("no consistency proof from the empty tree")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of one size need an empty consistency proof")
        if old_root != new_root:
            raise ProofError("two different roots for one tree size")
        return
    _require_hashes(old_root, new_root, *proof)
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not lead to both roots")
