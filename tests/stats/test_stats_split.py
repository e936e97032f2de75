"""The paper's largest-gap grouping rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modes.stats.split import largest_gap_split

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(deadline=None, max_examples=60)
@given(st.lists(finite, min_size=2, max_size=40, unique=True))
def test_split_is_at_the_centre_of_the_largest_gap(values: list[float]) -> None:
    x = np.array(values)
    split = largest_gap_split(x)
    ordered = np.sort(x)
    assert split.gap == pytest.approx(np.diff(ordered).max())
    assert x[split.high].min() > split.threshold > x[~split.high].max()
    assert x[split.high].min() - x[~split.high].max() == pytest.approx(split.gap)
    assert split.n_high + split.n_low == x.size and split.n_high >= 1 and split.n_low >= 1


def test_known_two_groups_and_ties_go_to_the_lowest_gap() -> None:
    x = np.array([0.0, 0.1, 0.2, 5.0, 5.1, 0.15])
    split = largest_gap_split(x)
    assert split.threshold == pytest.approx(2.6)
    assert split.high.tolist() == [False, False, False, True, True, False]
    tie = largest_gap_split([0.0, 1.0, 2.0])
    assert tie.threshold == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [[1.0], [[1.0, 2.0]], [1.0, np.nan], [2.0, 2.0]])
def test_bad_inputs_raise(bad: object) -> None:
    with pytest.raises(ValueError):
        largest_gap_split(bad)
