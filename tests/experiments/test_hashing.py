"""GrowthBook hashing/bucketing checked against the SDKs' shared test cases.

Every expected value below is copied from GrowthBook's cross-SDK spec file
``cases.json`` (specVersion 0.7.1) as stored in growthbook/growthbook-python at
``tests/cases.json`` (the same file as growthbook/growthbook
``packages/sdk-js/test/cases.json``). Sections used: "hash", "getBucketRange",
"chooseVariation", "run" and "stickyBucket". Nothing here is computed by us.
"""

import pytest

from experiments.hashing import (
    assign_arm,
    bucket_ranges,
    choose_variation,
    equal_weights,
    fnv1a32,
    gb_hash,
)

# cases.json "hash": [seed, value, version, expected]
HASH_CASES = [
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", '___)((*":&', 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 2, 0.0128),
    ("abc", "def", 99, None),
]

# cases.json "getBucketRange": [name, [numVariations, coverage, weights], expected ranges]
BUCKET_RANGE_CASES = [
    ("normal 50/50", 2, 1, None, [(0, 0.5), (0.5, 1)]),
    ("reduced coverage", 2, 0.5, None, [(0, 0.25), (0.5, 0.75)]),
    ("zero coverage", 2, 0, None, [(0, 0), (0.5, 0.5)]),
    ("4 variations", 4, 1, None, [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
    ("uneven weights", 2, 1, [0.4, 0.6], [(0, 0.4), (0.4, 1)]),
    ("uneven weights, 3 variations", 3, 1, [0.2, 0.3, 0.5], [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
    (
        "uneven weights, reduced coverage, 3 variations",
        3,
        0.2,
        [0.2, 0.3, 0.5],
        [(0, 0.04), (0.2, 0.26), (0.5, 0.6)],
    ),
    ("negative coverage", 2, -0.2, None, [(0, 0), (0.5, 0.5)]),
    ("coverage above 1", 2, 1.5, None, [(0, 0.5), (0.5, 1)]),
    ("weights sum below 1", 2, 1, [0.4, 0.1], [(0, 0.5), (0.5, 1)]),
    ("weights sum above 1", 2, 1, [0.7, 0.6], [(0, 0.5), (0.5, 1)]),
    (
        "weights.length not equal to num variations",
        4,
        1,
        [0.4, 0.4, 0.2],
        [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)],
    ),
    ("weights sum almost equals 1", 2, 1, [0.4, 0.5999], [(0, 0.4), (0.4, 0.9999)]),
]

EVEN = [(0, 0.5), (0.5, 1)]
REDUCED = [(0, 0.25), (0.5, 0.75)]
# cases.json "chooseVariation": [name, n, ranges, expected index]
CHOOSE_VARIATION_CASES = [
    ("even range, 0.2", 0.2, EVEN, 0),
    ("even range, 0.4", 0.4, EVEN, 0),
    ("even range, 0.6", 0.6, EVEN, 1),
    ("even range, 0.8", 0.8, EVEN, 1),
    ("even range, 0", 0, EVEN, 0),
    ("even range, 0.5", 0.5, EVEN, 1),
    ("reduced range, 0.2", 0.2, REDUCED, 0),
    ("reduced range, 0.4", 0.4, REDUCED, -1),
    ("reduced range, 0.6", 0.6, REDUCED, 1),
    ("reduced range, 0.8", 0.8, REDUCED, -1),
    ("reduced range, 0.25", 0.25, REDUCED, -1),
    ("reduced range, 0.5", 0.5, REDUCED, 1),
    ("zero range", 0.5, [(0, 0.5), (0.5, 0.5), (0.5, 1)], 2),
]

HALF = [0.5, 0.5]
THIRDS = [1 / 3, 1 / 3, 1 / 3]
# cases.json "run": experiments keyed "my-test" (so seed "my-test"), default hashVersion 1,
# default weights/coverage unless given; expected variation, or None where inExperiment is false.
RUN_CASES = [
    ("default weights - 1", "my-test", "1", HALF, 1, 1, 1),
    ("default weights - 2", "my-test", "2", HALF, 1, 1, 0),
    ("default weights - 3", "my-test", "3", HALF, 1, 1, 0),
    ("default weights - 4", "my-test", "4", HALF, 1, 1, 1),
    ("default weights - 5", "my-test", "5", HALF, 1, 1, 1),
    ("default weights - 6", "my-test", "6", HALF, 1, 1, 1),
    ("default weights - 7", "my-test", "7", HALF, 1, 1, 0),
    ("default weights - 8", "my-test", "8", HALF, 1, 1, 1),
    ("default weights - 9", "my-test", "9", HALF, 1, 1, 0),
    ("uneven weights - 1", "my-test", "1", [0.1, 0.9], 1, 1, 1),
    ("uneven weights - 2", "my-test", "2", [0.1, 0.9], 1, 1, 1),
    ("uneven weights - 3", "my-test", "3", [0.1, 0.9], 1, 1, 0),
    ("uneven weights - 4", "my-test", "4", [0.1, 0.9], 1, 1, 1),
    ("uneven weights - 5", "my-test", "5", [0.1, 0.9], 1, 1, 1),
    ("uneven weights - 6", "my-test", "6", [0.1, 0.9], 1, 1, 1),
    ("uneven weights - 7", "my-test", "7", [0.1, 0.9], 1, 1, 0),
    ("uneven weights - 8", "my-test", "8", [0.1, 0.9], 1, 1, 1),
    ("uneven weights - 9", "my-test", "9", [0.1, 0.9], 1, 1, 1),
    ("coverage - 1", "my-test", "1", HALF, 0.4, 1, None),
    ("coverage - 2", "my-test", "2", HALF, 0.4, 1, 0),
    ("coverage - 3", "my-test", "3", HALF, 0.4, 1, 0),
    ("coverage - 4", "my-test", "4", HALF, 0.4, 1, None),
    ("coverage - 5", "my-test", "5", HALF, 0.4, 1, 1),
    ("coverage - 6", "my-test", "6", HALF, 0.4, 1, None),
    ("coverage - 7", "my-test", "7", HALF, 0.4, 1, 0),
    ("coverage - 8", "my-test", "8", HALF, 0.4, 1, 1),
    ("coverage - 9", "my-test", "9", HALF, 0.4, 1, None),
    ("three way test - 1", "my-test", "1", THIRDS, 1, 1, 2),
    ("three way test - 2", "my-test", "2", THIRDS, 1, 1, 0),
    ("three way test - 3", "my-test", "3", THIRDS, 1, 1, 0),
    ("three way test - 4", "my-test", "4", THIRDS, 1, 1, 2),
    ("three way test - 5", "my-test", "5", THIRDS, 1, 1, 1),
    ("three way test - 6", "my-test", "6", THIRDS, 1, 1, 2),
    ("three way test - 7", "my-test", "7", THIRDS, 1, 1, 0),
    ("three way test - 8", "my-test", "8", THIRDS, 1, 1, 1),
    ("three way test - 9", "my-test", "9", THIRDS, 1, 1, 0),
    ("test name - my-test-3", "my-test-3", "1", HALF, 1, 1, 0),
    ("Uses seed with default weights/coverage", "foo", "1", HALF, 1, 2, 1),
    ("Uses seed with weights/coverage", "foo", "1", HALF, 0.99, 2, 1),
]

# cases.json "stickyBucket": fresh (non-sticky) assignments, with the bucket they report.
STICKY_BUCKET_CASES = [
    # "use fallbackAttribute when missing hashAttribute": rule keyed by feature "feature", v1
    ("feature", "123", [0.25] * 4, 1, 0.863, 3),
    # "performs evaluation without sticky bucket"
    ("feature-exp", "d123", [0.3334, 0.3333, 0.3333], 2, 0.6468, 1),
    # "resets sticky bucketing when the bucketVersion changes" (re-hashed, not sticky)
    ("feature-exp", "i123", [0.3334, 0.3333, 0.3333], 2, 0.9943, 2),
]


@pytest.mark.parametrize(("seed", "value", "version", "expected"), HASH_CASES)
def test_gb_hash_matches_sdk_cases(seed: str, value: str, version: int, expected: float | None):
    assert gb_hash(seed, value, version) == expected


@pytest.mark.parametrize(
    ("name", "num_variations", "coverage", "weights", "expected"),
    BUCKET_RANGE_CASES,
    ids=[case[0] for case in BUCKET_RANGE_CASES],
)
def test_bucket_ranges_match_sdk_cases(name, num_variations, coverage, weights, expected):
    ranges = bucket_ranges(num_variations, coverage, weights)
    assert len(ranges) == len(expected)
    for got, want in zip(ranges, expected, strict=True):
        assert got == pytest.approx(want)


@pytest.mark.parametrize(
    ("name", "n", "ranges", "expected"),
    CHOOSE_VARIATION_CASES,
    ids=[case[0] for case in CHOOSE_VARIATION_CASES],
)
def test_choose_variation_matches_sdk_cases(name, n, ranges, expected):
    assert choose_variation(n, ranges) == expected


@pytest.mark.parametrize(
    ("name", "seed", "user_key", "weights", "coverage", "hash_version", "expected"),
    RUN_CASES,
    ids=[case[0] for case in RUN_CASES],
)
def test_assign_arm_matches_sdk_run_cases(
    name, seed, user_key, weights, coverage, hash_version, expected
):
    arm = assign_arm(
        seed=seed,
        user_key=user_key,
        weights=weights,
        coverage=coverage,
        hash_version=hash_version,
    )
    assert arm == expected


@pytest.mark.parametrize(
    ("seed", "user_key", "weights", "hash_version", "bucket", "expected"), STICKY_BUCKET_CASES
)
def test_sdk_reported_bucket_and_arm_agree(seed, user_key, weights, hash_version, bucket, expected):
    assert gb_hash(seed, user_key, hash_version) == bucket
    arm = assign_arm(
        seed=seed, user_key=user_key, weights=weights, coverage=1, hash_version=hash_version
    )
    assert arm == expected


def test_empty_user_key_is_never_enrolled():
    # cases.json "run" / "empty id": not in the experiment.
    assert assign_arm(seed="my-test", user_key="", weights=HALF, coverage=1, hash_version=1) is None


def test_equal_weights_for_no_variations_is_empty():
    # cases.json "getEqualWeights": [-1, []], [0, []]
    assert equal_weights(-1) == []
    assert equal_weights(0) == []


def test_equal_weights_splits_evenly():
    # cases.json "getEqualWeights": [4, [0.25, 0.25, 0.25, 0.25]]
    assert equal_weights(4) == [0.25, 0.25, 0.25, 0.25]


def test_fnv1a32_walks_utf16_code_units_like_javascript():
    """An astral character hashes as its surrogate pair, as ``charCodeAt`` sees it."""
    assert fnv1a32("\U0001f600") == fnv1a32("\ud83d\ude00")


def test_relative_weights_are_rescaled_not_flattened():
    """[1, 3] means 25/75; the raw SDK would treat it as invalid and split 50/50."""
    for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9"):
        relative = assign_arm(seed="my-test", user_key=key, weights=[1, 3], coverage=1)
        normalised = assign_arm(seed="my-test", user_key=key, weights=[0.25, 0.75], coverage=1)
        assert relative == normalised


def test_assign_arm_rejects_single_arm():
    with pytest.raises(ValueError, match="two arms"):
        assign_arm(seed="s", user_key="u", weights=[1.0], coverage=1)


def test_assign_arm_rejects_unknown_hash_version():
    with pytest.raises(ValueError, match="hash version"):
        assign_arm(seed="s", user_key="u", weights=HALF, coverage=1, hash_version=3)


def test_assign_arm_rejects_negative_weight():
    with pytest.raises(ValueError, match="negative"):
        assign_arm(seed="s", user_key="u", weights=[1.5, -0.5], coverage=1)


def test_assign_arm_rejects_all_zero_weights():
    with pytest.raises(ValueError, match="positive weight"):
        assign_arm(seed="s", user_key="u", weights=[0, 0], coverage=1)


def test_zero_coverage_enrols_nobody():
    assert all(
        assign_arm(seed="my-test", user_key=str(i), weights=HALF, coverage=0) is None
        for i in range(200)
    )
