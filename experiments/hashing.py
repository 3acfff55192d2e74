"""GrowthBook-compatible hashing and bucketing, so an arm is the same one a GrowthBook SDK picks.

Ported from the GrowthBook JavaScript SDK (``packages/sdk-js/src/util.ts`` in
growthbook/growthbook), which the Python SDK (``growthbook/core.py`` in
growthbook/growthbook-python) mirrors. Both are checked against the SDKs' shared
``cases.json`` in ``tests/experiments/test_hashing.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "assign_arm",
    "bucket_ranges",
    "choose_variation",
    "equal_weights",
    "fnv1a32",
    "gb_hash",
    "in_range",
]

BucketRange = tuple[float, float]

_FNV_OFFSET_BASIS = 0x811C9DC5
_FNV_PRIME = 0x01000193
_UINT32 = 0xFFFFFFFF
# getBucketRanges falls back to equal weights outside this band.
_WEIGHT_SUM_LOW = 0.99
_WEIGHT_SUM_HIGH = 1.01
SUPPORTED_HASH_VERSIONS = (1, 2)


def _utf16_code_units(text: str) -> list[int]:
    """The units JavaScript's ``charCodeAt`` walks: astral characters count as two surrogates."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i] | (data[i + 1] << 8) for i in range(0, len(data), 2)]


def fnv1a32(text: str) -> int:
    """32-bit FNV-1a over UTF-16 code units, as the JS SDK's ``hashFnv32a``.

    For text inside the Basic Multilingual Plane this equals the Python SDK, which
    hashes code points; only astral characters (e.g. emoji) differ, and there we
    follow JavaScript, the SDK the shared test cases come from.
    """
    value = _FNV_OFFSET_BASIS
    for unit in _utf16_code_units(text):
        value ^= unit
        value = (value * _FNV_PRIME) & _UINT32
    return value


def gb_hash(seed: str, value: str, version: int) -> float | None:
    """A user's position in [0, 1) for this seed; ``None`` for a hash version GrowthBook lacks.

    Version 1 is GrowthBook's original (biased, 1000 buckets) hash and is kept for
    old experiments; version 2 re-hashes the decimal string of the first hash to
    remove that bias and has 10000 buckets.
    """
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def equal_weights(num_variations: int) -> list[float]:
    """Equal split, GrowthBook's fallback when weights are missing or malformed."""
    if num_variations < 1:
        return []
    return [1 / num_variations] * num_variations


def bucket_ranges(
    num_variations: int,
    coverage: float = 1,
    weights: Sequence[float] | None = None,
) -> list[BucketRange]:
    """Each arm's slice of [0, 1): starts at its cumulative weight, spans ``coverage * weight``.

    As the SDK does, coverage is clamped to [0, 1], and weights that are missing,
    of the wrong length, or that do not sum to within 0.99-1.01 are replaced by an
    equal split (silently: normalise relative weights before calling).
    """
    coverage = min(max(coverage, 0), 1)
    equal = equal_weights(num_variations)
    chosen = list(weights) if weights is not None else equal
    if len(chosen) != num_variations:
        chosen = equal
    total = sum(chosen)
    if total < _WEIGHT_SUM_LOW or total > _WEIGHT_SUM_HIGH:
        chosen = equal

    ranges: list[BucketRange] = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def in_range(n: float, bucket: BucketRange) -> bool:
    """Half-open membership, so adjacent ranges never both claim a boundary."""
    return bucket[0] <= n < bucket[1]


def choose_variation(n: float, ranges: Sequence[BucketRange]) -> int:
    """Index of the first range holding ``n``; -1 when it falls in the uncovered gaps."""
    for index, bucket in enumerate(ranges):
        if in_range(n, bucket):
            return index
    return -1


def _sdk_weights(weights: Sequence[float]) -> list[float]:
    """Pass weights the SDK would accept untouched; rescale relative ones (e.g. 1, 1, 2) to sum 1."""
    if any(w < 0 for w in weights):
        raise ValueError("arm weights must not be negative")
    total = sum(weights)
    if total <= 0:
        raise ValueError("at least one arm needs a positive weight")
    if _WEIGHT_SUM_LOW <= total <= _WEIGHT_SUM_HIGH:
        return list(weights)
    return [w / total for w in weights]


def assign_arm(
    *,
    seed: str,
    user_key: str,
    weights: Sequence[float],
    coverage: float,
    hash_version: int = 2,
) -> int | None:
    """The arm index GrowthBook would give ``user_key``, or ``None`` if they are not enrolled.

    ``None`` means outside ``coverage`` (or an empty ``user_key``, which the SDK
    never enrols). Weights that already sum to 1 (within the SDK's 0.99-1.01) are
    used exactly as the SDK would; relative weights such as ``[1, 1, 2]`` are
    rescaled first, where the SDK would silently fall back to an equal split.
    Raises ``ValueError`` for fewer than two arms, negative or all-zero weights,
    or a hash version GrowthBook does not define: misconfigurations, not users.
    """
    if len(weights) < 2:
        raise ValueError("an experiment needs at least two arms")
    if hash_version not in SUPPORTED_HASH_VERSIONS:
        raise ValueError(f"unknown GrowthBook hash version {hash_version!r}")
    sdk_weights = _sdk_weights(weights)
    if user_key == "":
        return None
    n = gb_hash(seed, user_key, hash_version)
    assert n is not None  # the version was checked above
    arm = choose_variation(n, bucket_ranges(len(sdk_weights), coverage, sdk_weights))
    return None if arm < 0 else arm
