"""The decision rule (experiments.decisions.arm_verdict): each clause, its order, and its promise."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.compliance import PRE_TICKED, Finding
from experiments.decisions import (
    LEARN_MORE,
    REVERSAL,
    Readiness,
    arm_verdict,
    guardrail_compare,
    two_proportion_p_value,
)

READY = Readiness(runtime_days=14, min_runtime_days=7, exposed=2000, users_needed=1000)
WINNING = {"lift": 0.2, "p_value_adjusted": 0.001, "comparison_error": None}
CALM = (
    guardrail_compare(REVERSAL, control=(5, 200), arm=(6, 200)),
    guardrail_compare(LEARN_MORE, control=(40, 400), arm=(42, 400)),
)


def verdict(**changes):
    inputs = {
        **WINNING,
        "guardrails": CALM,
        "compliance_failures": (),
        "readiness": READY,
        "sample_ratio_mismatch": False,
    }
    return arm_verdict(**(inputs | changes))


def test_a_significant_gain_with_calm_guardrails_and_a_clean_lint_ships():
    result = verdict()
    assert result.ships and result.label == "ship"


def test_a_failing_lint_rule_refuses_before_anything_else():
    finding = Finding(rule=PRE_TICKED, variant_key="accept_toggle_on", detail="starts on")

    result = verdict(compliance_failures=(finding,))

    assert result.label == "do not ship: fails compliance lint (consent switch on by default)"


def test_a_significantly_worse_reversal_rate_refuses_even_a_big_winner():
    worse = guardrail_compare(REVERSAL, control=(4, 200), arm=(30, 200))

    result = verdict(guardrails=(worse,), p_value_adjusted=1e-12, lift=1.2)

    assert not result.ships
    assert result.label == "do not ship: 7-day reversal rate worse"


def test_fewer_learn_more_openings_are_worse_more_are_not():
    fewer = guardrail_compare(LEARN_MORE, control=(80, 400), arm=(20, 400))
    more = guardrail_compare(LEARN_MORE, control=(20, 400), arm=(80, 400))

    assert fewer.worse and not fewer.better
    assert more.better and not more.worse
    assert verdict(guardrails=(fewer,)).label == "do not ship: learn-more opened worse"
    assert verdict(guardrails=(more,)).ships


def test_harm_is_reported_while_data_is_still_short():
    worse = guardrail_compare(REVERSAL, control=(1, 100), arm=(25, 100))
    young = Readiness(runtime_days=2, min_runtime_days=7, exposed=300, users_needed=1000)

    assert verdict(guardrails=(worse,), readiness=young).label.startswith("do not ship")


@pytest.mark.parametrize(
    ("readiness", "missing"),
    [
        (Readiness(2.0, 7, 5000, 1000), "2.0 of 7 days run"),
        (Readiness(9.0, 7, 400, 1000), "400 of 1,000 users exposed"),
        (Readiness(9.0, 7, 400, None), "out of reach"),
    ],
)
def test_not_enough_data_keeps_it_running_and_says_what_is_missing(readiness, missing):
    result = verdict(readiness=readiness)

    assert result.kind == "keep_running"
    assert result.reason.startswith("not enough data yet") and missing in result.reason


def test_runtime_and_sample_are_both_needed_exactly_at_their_boundaries():
    assert Readiness(7.0, 7, 1000, 1000).enough
    assert not Readiness(6.99, 7, 1000, 1000).enough
    assert not Readiness(7.0, 7, 999, 1000).enough


def test_a_sample_ratio_mismatch_keeps_it_running():
    assert verdict(sample_ratio_mismatch=True).reason.startswith("sample ratio mismatch")


def test_an_unanalysable_opt_in_rate_keeps_it_running_with_the_gbstats_code():
    result = verdict(lift=None, p_value_adjusted=None, comparison_error="ZERO_NEGATIVE_VARIANCE")

    assert result.kind == "keep_running" and "ZERO_NEGATIVE_VARIANCE" in result.reason


def test_a_significantly_lower_opt_in_rate_is_not_shipped():
    assert verdict(lift=-0.3).label == "do not ship: opt-in rate lower than the control's"


def test_no_significant_difference_keeps_it_running():
    result = verdict(p_value_adjusted=0.2)
    assert result.label == "keep running: no significant difference in opt-in rate"


def test_the_adjusted_p_value_decides_not_the_raw_one():
    # alpha is compared with the corrected value only: 0.05 exactly is not significant.
    assert not verdict(p_value_adjusted=0.05).ships


def test_guardrail_test_is_undefined_without_events_or_users():
    assert two_proportion_p_value(0, 100, 0, 100) is None
    assert two_proportion_p_value(3, 100, 0, 0) is None
    assert not guardrail_compare(REVERSAL, control=(0, 100), arm=(0, 100)).worse


def test_guardrail_harm_is_found_when_the_control_has_no_events_at_all():
    # The case gbstats would call a zero baseline: harm must still show.
    assert guardrail_compare(REVERSAL, control=(0, 150), arm=(20, 150)).worse


counts = st.integers(min_value=0, max_value=400).flatmap(
    lambda total: st.tuples(st.integers(min_value=0, max_value=total), st.just(total))
)


@settings(max_examples=300, deadline=None)
@given(
    control=counts,
    arm=counts,
    lift=st.one_of(st.none(), st.floats(min_value=-1, max_value=10, allow_nan=False)),
    p_value=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
    runtime=st.floats(min_value=0, max_value=60),
    exposed=st.integers(min_value=0, max_value=10_000),
    needed=st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)),
    mismatch=st.booleans(),
    other_guardrails=st.lists(
        st.tuples(counts, counts).map(
            lambda pair: guardrail_compare(LEARN_MORE, control=pair[0], arm=pair[1])
        ),
        max_size=2,
    ),
)
def test_no_arm_with_a_significantly_worse_reversal_rate_ever_ships(
    control, arm, lift, p_value, runtime, exposed, needed, mismatch, other_guardrails
):
    reversal = guardrail_compare(REVERSAL, control=control, arm=arm)

    result = arm_verdict(
        lift=lift,
        p_value_adjusted=p_value,
        comparison_error=None,
        guardrails=(reversal, *other_guardrails),
        compliance_failures=(),
        readiness=Readiness(runtime, 7, exposed, needed),
        sample_ratio_mismatch=mismatch,
    )

    if reversal.worse:
        assert not result.ships
        assert "7-day reversal rate" in result.reason
