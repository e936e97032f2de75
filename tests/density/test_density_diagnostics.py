"""Split R-hat and ESS against cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from modes.components.density.diagnostics import effective_sample_size, split_rhat


def test_iid_chains_are_mixed_with_full_ess() -> None:
    rng = np.random.default_rng(0)
    trace = rng.normal(size=(2000, 4, 3))
    assert np.all(np.abs(split_rhat(trace) - 1) < 0.01)
    np.testing.assert_allclose(effective_sample_size(trace), 8000, rtol=0.15)


def test_chains_stuck_at_different_values_are_not_mixed() -> None:
    rng = np.random.default_rng(1)
    trace = rng.normal(size=(500, 2, 1)) + np.array([0.0, 3.0])[None, :, None]
    assert split_rhat(trace)[0] > 1.5
    trend = np.linspace(0, 10, 400)[:, None, None] + rng.normal(size=(400, 1, 1))
    assert split_rhat(trend)[0] > 1.5, "split R-hat must catch a trend within one chain"


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_ess_of_ar1_matches_theory(rho: float) -> None:
    rng = np.random.default_rng(2)
    n, chains = 20000, 2
    x = np.zeros((n, chains))
    noise = rng.normal(size=(n, chains)) * np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + noise[t]
    expected = n * chains * (1 - rho) / (1 + rho)
    assert effective_sample_size(x[:, :, None])[0] == pytest.approx(expected, rel=0.2)


def test_constant_trace_has_rhat_one() -> None:
    assert split_rhat(np.ones((10, 2, 1)))[0] == 1.0


def test_one_chain_is_diagnosed_by_its_halves_and_short_traces_are_refused() -> None:
    from modes.components.density.diagnostics import assess, bulk_ess, rank_rhat

    rng = np.random.default_rng(3)
    steps = np.r_[np.zeros(20), np.ones(20)][None, :]
    assert rank_rhat(steps) == np.inf  # constant halves that differ
    assert rank_rhat(rng.normal(size=(1, 400))) < 1.05
    with pytest.raises(ValueError, match="at least 8 draws per chain with 1 chain"):
        rank_rhat(rng.normal(size=(1, 6)))
    with pytest.raises(ValueError, match=r"\(chains, draws\)"):
        bulk_ess(rng.normal(size=10))
    conv = assess(rng.normal(size=(6, 1, 2)), np.array([0, 1]))
    assert np.isnan(conv.rhat).all() and np.isnan(conv.ess).all()
