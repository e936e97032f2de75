"""The total correlation that C4 removes from Eq. 4 (modes.measures.total_correlation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modes.measures import CHECKED, PAPER, SamplerSettings, class_total_correlations
from modes.measures import total_correlation as tc
from modes.measures import total_correlation_bias as bias

SETTINGS = SamplerSettings(sweeps=10, burn_in=6, thin=2, block_size=4, init_components=6,
                           chains=2, dtype="float64", folds=3, kl_samples=64, null_replicates=2)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 6))
def test_it_is_the_kl_from_the_full_to_the_diagonal_gaussian(seed: int, d: int) -> None:
    """Closed form: KL(N(0, S) || N(0, diag S)) = 0.5 (sum log S_jj - log det S), >= 0, and
    unchanged by rescaling any coordinate (the max-entropy q has the class's own variances)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((200, d)) @ rng.standard_normal((d, d))
    centred = x - x.mean(0)
    cov = centred.T @ centred / x.shape[0]
    expected = 0.5 * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])
    assert tc(x) == pytest.approx(expected, rel=1e-8, abs=1e-8)
    assert tc(x) >= -1e-12
    assert tc(x * rng.uniform(0.1, 10.0, size=d)) == pytest.approx(tc(x), rel=1e-8, abs=1e-8)


def test_it_is_zero_for_uncorrelated_coordinates_and_undefined_when_singular() -> None:
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    assert tc(x) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(tc(np.random.default_rng(0).standard_normal((3, 5))))


def test_its_bias_at_n_over_d_is_the_stated_one() -> None:
    """Gaussian data with independent coordinates: the plug-in's mean over 400 draws matches
    total_correlation_bias (0.5 (d psi((n-1)/2) - sum psi((n-1-i)/2)) ~ d(d-1)/(4n))."""
    rng = np.random.default_rng(1)
    n, d = 60, 8
    draws = [tc(rng.standard_normal((n, d))) for _ in range(400)]
    assert np.mean(draws) == pytest.approx(bias(n, d), abs=4 * float(np.std(draws)) / 20)
    assert bias(n, d) == pytest.approx(d * (d - 1) / (4 * n), rel=0.15)
    with pytest.raises(ValueError, match="n > d"):
        bias(4, 4)


def test_class_values_follow_the_measurement_points() -> None:
    """In-sample: each class's TC; held out: the mean over the class's fold models' points."""
    rng = np.random.default_rng(2)
    labels = np.repeat([0, 1], 30)
    x = rng.standard_normal((60, 3))
    x[labels == 1, 1] += 2.0 * x[labels == 1, 0]  # class 1 correlated
    worlds = x[None]
    paper = class_total_correlations(worlds, labels, PAPER, SETTINGS, seed=0)
    assert paper.shape == (1, 2)
    assert paper[0, 0] == pytest.approx(tc(x[:30])) and paper[0, 1] == pytest.approx(tc(x[30:]))
    held = class_total_correlations(worlds, labels, CHECKED, SETTINGS, seed=0)
    assert held[0, 1] > held[0, 0] + 0.5 and not np.allclose(held, paper)
