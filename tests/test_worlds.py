"""Planted representation worlds decided end to end by C1's decision (tiny sizes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.mixture import GaussianMixture

from modes.experiments.worlds import (
    blob_class_with_log_density,
    decide_world,
    null_world,
    planted_group_shape,
    shell_class,
    two_mode_world,
)
from modes.measures import CHECKED, PAPER, SamplerSettings

torch.set_num_threads(1)
SETTINGS = SamplerSettings(sweeps=10, burn_in=6, thin=2, block_size=4, init_components=6,
                           chains=2, dtype="float64", folds=3, kl_samples=64, null_replicates=2)


def test_shell_classes_are_not_more_compact_overall() -> None:
    rng = np.random.default_rng(0)
    x = shell_class(4000, 16, 5, 0.3, rng)
    np.testing.assert_allclose(x.var(0).sum(), 16.0)
    gauss = rng.normal(size=(4000, 16))
    d_shell = np.linalg.norm(x[:1000, None] - x[None, 1000:2000], axis=-1).mean()
    d_gauss = np.linalg.norm(gauss[:1000, None] - gauss[None, 1000:2000], axis=-1).mean()
    assert d_shell > 0.9 * d_gauss


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blob_class_log_density_is_the_true_one(seed: int) -> None:
    """Gibbs' inequality: a density fitted on other points of the class does not beat the truth on
    held-out points, and a 5-blob spherical mixture (the true family) fitted to 2,000 of them
    comes within 0.05 nats/pt of it."""
    x, log_p = blob_class_with_log_density(4000, 8, 5, 0.1, np.random.default_rng(seed))
    np.testing.assert_allclose(x.var(0).sum(), 8.0, rtol=0.05)
    test, train = slice(0, 2000), slice(2000, None)
    fitted = GaussianMixture(5, covariance_type="spherical", n_init=3, random_state=0)
    held_out = fitted.fit(x[train]).score(x[test])
    assert log_p[test].mean() >= held_out - 0.01
    assert log_p[test].mean() - held_out < 0.05


def test_planted_and_gaussian_classes_share_their_kind_of_covariance() -> None:
    w = two_mode_world(40, 2000, 8, seed=3)
    covs = [np.cov(w.x[w.labels == c], rowvar=False) for c in range(40)]
    trace = np.array([np.trace(c) for c in covs])
    logdet = np.array([np.linalg.slogdet(c)[1] for c in covs])
    np.testing.assert_allclose(trace, 8.0, rtol=0.15)
    # the planted classes are not set apart by their log-determinants (second moments)
    assert abs(logdet[w.planted].mean() - logdet[~w.planted].mean()) < 2 * logdet.std()


def test_worlds_have_the_documented_layout() -> None:
    w = two_mode_world(10, 30, 4, seed=1)
    assert w.x.shape == (300, 4) and w.planted.sum() == 3
    assert null_world(5, 20, 3, seed=0).planted.sum() == 0


def test_null_world_is_decided_under_both_measures() -> None:
    world = null_world(6, 40, 3, seed=2)
    for measure in (PAPER, CHECKED):
        results = decide_world(world, measure, SETTINGS, seed=0)
        assert set(results) == {"C1", "C1s", "C4"}
        for claim, r in results.items():
            assert r.claim_id == claim and r.details["measure"] == measure.name
            assert len(r.details["class_means"]) == 6 and r.verdict != "replicated"
            assert len(r.details["total_correlation"]) == 6


def test_gaussian_fit_log_likelihood_is_the_ml_gaussians_mean_logpdf() -> None:
    from scipy import stats

    from modes.experiments.worlds import gaussian_fit_log_likelihood

    x = np.random.default_rng(3).normal(size=(200, 5)) @ np.diag([1.0, 2.0, 0.5, 3.0, 1.0])
    ml = stats.multivariate_normal(x.mean(0), np.cov(x, rowvar=False, bias=True))
    assert np.isclose(gaussian_fit_log_likelihood(x), ml.logpdf(x).mean())


def test_planted_group_shape_reads_the_effect_it_was_given() -> None:
    """Class means built as C1's effect shape (others: sd 1; planted: 8 higher, 1.5x spread)
    give back exactly those numbers."""
    low = np.array([-1.0, 0.0, 1.0])
    means = np.concatenate([low, 8.0 + 1.5 * low])
    shape = planted_group_shape(means, np.repeat([False, True], 3))
    assert shape.separation == pytest.approx(8.0)
    assert shape.spread_ratio == pytest.approx(1.5)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3), shift=st.floats(-1e3, 1e3))
def test_planted_group_shape_is_invariant_to_units(seed: int, scale: float, shift: float) -> None:
    """Log-densities in other units or with another constant (nats vs bits, a shifted prior) give
    the same shape."""
    rng = np.random.default_rng(seed)
    means, planted = rng.normal(size=20), np.arange(20) < 5
    a = planted_group_shape(means, planted)
    b = planted_group_shape(scale * means + shift, planted)
    assert b.separation == pytest.approx(a.separation, rel=1e-6, abs=1e-9)
    assert b.spread_ratio == pytest.approx(a.spread_ratio, rel=1e-6)


@pytest.mark.parametrize(("means", "planted", "match"), [
    (np.zeros(4), np.array([True, False, False]), "one class mean per planted flag"),
    (np.arange(4.0), np.array([True, False, False, False]), "at least 2 planted and 2 other"),
    (np.array([0.0, 0.0, 5.0, 6.0]), np.array([False, False, True, True]), "do not vary"),
])
def test_planted_group_shape_rejects_bad_input(means: np.ndarray, planted: np.ndarray,
                                                match: str) -> None:
    with pytest.raises(ValueError, match=match):
        planted_group_shape(means, planted)
