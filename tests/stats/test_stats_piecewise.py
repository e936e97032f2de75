"""Piecewise regression with a step at a known transition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modes.stats import planted
from modes.stats.piecewise import piecewise_step, transition_from_fractions

coef = st.floats(-5.0, 5.0, allow_nan=False)


@settings(deadline=None, max_examples=40)
@given(coef, coef, coef, st.floats(0.3, 0.7), st.integers(0, 2**16))
def test_recovers_jump_and_slopes_under_small_noise(before: float, jump: float, after: float,
                                                    t: float, seed: int) -> None:
    x, y = planted.piecewise_series(np.random.default_rng(seed), 40, t, before, jump, after,
                                    1e-6)
    fit = piecewise_step(x, y, t)
    assert fit.jump.estimate == pytest.approx(jump, abs=1e-4)
    assert fit.slope_before.estimate == pytest.approx(before, abs=1e-4)
    assert fit.slope_after is not None
    assert fit.slope_after.estimate == pytest.approx(after, abs=1e-4)
    assert fit.jump.ci_low <= jump + 1e-4 and jump - 1e-4 <= fit.jump.ci_high


def test_one_sided_p_values_follow_the_direction() -> None:
    x, y = planted.piecewise_series(np.random.default_rng(0), 50, 0.6, -0.3, 0.1, 0.0, 0.03)
    up = piecewise_step(x, y, 0.6, jump_alternative="greater")
    down = piecewise_step(x, y, 0.6, jump_alternative="less")
    two = piecewise_step(x, y, 0.6, jump_alternative="two-sided")
    assert up.jump.p_value < 1e-6 and down.jump.p_value > 0.99
    assert two.jump.p_value == pytest.approx(2 * up.jump.p_value)
    assert up.slope_before.p_value < 1e-6  # slope -0.3 tested against H1 "less"
    assert up.n_before == 30 and up.n == 50 and up.df_resid == 46


def test_common_slope_and_weights() -> None:
    x, y = planted.piecewise_series(np.random.default_rng(1), 6, 0.5, -0.3, 0.2, -0.3, 0.01)
    fit = piecewise_step(x, y, 0.5, separate_slopes=False, weights=np.full(6, 2.0))
    assert fit.slope_after is None and fit.df_resid == 3
    assert fit.jump.estimate == pytest.approx(0.2, abs=0.05)


def test_transition_from_fractions() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert transition_from_fractions(x, [0.0, 0.1, 0.4, 0.9, 1.0]) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="both"):
        transition_from_fractions(x, np.zeros(5))
    with pytest.raises(ValueError, match="first bin"):
        transition_from_fractions(x, [0.9, 0.2, 0.8, 0.9, 1.0])
    with pytest.raises(ValueError, match="sorted"):
        transition_from_fractions(x[::-1], [0.0, 0.1, 0.4, 0.9, 1.0])


def test_too_few_bins_raise_with_the_counts() -> None:
    x = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="1 bins before"):
        piecewise_step(x, x, 0.1)
    with pytest.raises(ValueError, match="residual"):
        piecewise_step(np.linspace(0, 1, 4), np.arange(4.0), 0.5)
    with pytest.raises(ValueError, match="alternative"):
        piecewise_step(np.linspace(0, 1, 20), np.arange(20.0), 0.5,
                       jump_alternative="up")  # type: ignore[arg-type]
