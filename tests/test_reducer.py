"""SVD reducer: the variance curve against numpy and scikit-learn, projections, dimension choice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA

from modes import registry
from modes.components.protocols import FittedReducer
from modes.components.reducer import SVDReducer


def _data(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.normal(5, 2, d)


@settings(deadline=None, max_examples=25)
@given(st.integers(3, 40), st.integers(2, 12), st.integers(0, 10_000))
def test_variance_curve_matches_covariance_eigenvalues(n: int, d: int, seed: int) -> None:
    x = _data(n, d, seed)
    fitted = SVDReducer().fit(x)
    eig = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1][: min(n, d)]
    np.testing.assert_allclose(fitted.explained_variance_ratio, eig / eig.sum(), atol=1e-9)
    curve = fitted.retained_variance
    assert np.all(np.diff(curve) >= -1e-12) and np.isclose(curve[-1], 1.0)


def test_matches_sklearn_pca_up_to_sign() -> None:
    x = _data(200, 10, 1)
    fitted = SVDReducer(dims=4).fit(x)
    pca = PCA(n_components=4, svd_solver="full").fit(x)
    np.testing.assert_allclose(fitted.explained_variance_ratio[:4], pca.explained_variance_ratio_)
    ours, theirs = fitted.transform(x), pca.transform(x)
    signs = np.sign((ours * theirs).sum(axis=0))
    np.testing.assert_allclose(ours, theirs * signs, atol=1e-8)
    np.testing.assert_allclose(fitted.mean, x.mean(axis=0))  # centred before the SVD


def test_full_rank_projection_reconstructs() -> None:
    x = _data(30, 6, 2)
    fitted = SVDReducer(dims=6).fit(x)
    np.testing.assert_allclose(fitted.transform(x) @ fitted.components + fitted.mean, x)
    np.testing.assert_allclose(fitted.components @ fitted.components.T, np.eye(6), atol=1e-10)
    assert isinstance(fitted, FittedReducer)


def test_variance_target_keeps_fewest_dimensions() -> None:
    x = _data(100, 8, 3)
    fitted = SVDReducer(variance=0.9).fit(x)
    k = fitted.n_components
    assert fitted.retained_variance[k - 1] >= 0.9 > fitted.retained_variance[k - 2]
    assert fitted.transform(x).shape == (100, k)


def test_deterministic_signs() -> None:
    x = _data(50, 5, 4)
    a, b = SVDReducer(dims=3).fit(x), SVDReducer(dims=3).fit(x[::-1].copy())
    np.testing.assert_allclose(a.components, b.components, atol=1e-10)


def test_registered_and_validated() -> None:
    assert isinstance(registry.create("reducer", "svd", dims=2), SVDReducer)
    with pytest.raises(ValueError, match="not both"):
        SVDReducer(dims=2, variance=0.5)
    with pytest.raises(ValueError, match="variance"):
        SVDReducer(variance=1.5)
    with pytest.raises(ValueError, match="dims=9 exceeds"):
        SVDReducer(dims=9).fit(_data(20, 8, 0))
    with pytest.raises(ValueError, match="NaN"):
        SVDReducer().fit(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match=r"\(n, 8\)"):
        SVDReducer(dims=2).fit(_data(20, 8, 0)).transform(np.zeros((2, 3)))
