"""Length fitting: the sum hits the target; every pause stays in its bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from innerchild_audio.fitting import Elastic, LengthOutOfReach, fit_pauses, reachable_range


@st.composite
def elastic(draw):
    low = draw(st.integers(0, 600_000))
    high = draw(st.integers(low, low + 3_600_000))
    return Elastic(low, high, draw(st.integers(low, high)))


@given(fixed=st.integers(0, 3_600_000), pauses=st.lists(elastic(), max_size=30),
       fraction=st.floats(0, 1))
def test_sum_equals_target_and_bounds_hold(fixed, pauses, fraction):
    low, high = reachable_range(fixed, pauses)
    target = low + round((high - low) * fraction)
    fitted = fit_pauses(fixed, pauses, target)
    assert fixed + sum(fitted) == target
    for pause, ms in zip(pauses, fitted, strict=False):
        assert pause.min_ms <= ms <= pause.max_ms


@given(fixed=st.integers(0, 3_600_000), pauses=st.lists(elastic(), max_size=10),
       beyond=st.integers(1, 10**7), below=st.booleans())
def test_out_of_reach_states_the_range(fixed, pauses, beyond, below):
    low, high = reachable_range(fixed, pauses)
    target = low - beyond if below else high + beyond
    if target < 0:
        return
    with pytest.raises(LengthOutOfReach) as caught:
        fit_pauses(fixed, pauses, target)
    assert (caught.value.min_total_ms, caught.value.max_total_ms) == (low, high)


@given(fixed=st.integers(0, 10**6), pauses=st.lists(elastic(), max_size=10))
def test_without_target_defaults(fixed, pauses):
    assert fit_pauses(fixed, pauses, None) == [p.default_ms for p in pauses]


def test_shares_are_proportional_to_range():
    assert fit_pauses(0, [Elastic(0, 10_000, 0), Elastic(0, 30_000, 0)], 20_000) == [5000, 15000]


def test_message_names_the_file_and_range():
    with pytest.raises(LengthOutOfReach) as caught:
        fit_pauses(500_000, [Elastic(80_000, 765_000, 80_000)], 1_800_000,
                   name="meeting-your-child-self.yaml")
    assert str(caught.value) == ("meeting-your-child-self.yaml: length 30m is out of reach: "
                                 "this script runs 9m40s to 21m05s")
