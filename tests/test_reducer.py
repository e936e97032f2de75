"""SVD reducer: the variance curve against numpy and scikit-learn, projections, dimension choice,
uncentred (the paper's default) and centred (PCA)."""

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
    fitted = SVDReducer(centre=True).fit(x)
    eig = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1][: min(n, d)]
    np.testing.assert_allclose(fitted.explained_variance_ratio, eig / eig.sum(), atol=1e-9)
    curve = fitted.retained_variance
    assert np.all(np.diff(curve) >= -1e-12) and np.isclose(curve[-1], 1.0)


def test_matches_sklearn_pca_up_to_sign() -> None:
    x = _data(200, 10, 1)
    fitted = SVDReducer(dims=4, centre=True).fit(x)
    pca = PCA(n_components=4, svd_solver="full").fit(x)
    np.testing.assert_allclose(fitted.explained_variance_ratio[:4], pca.explained_variance_ratio_)
    ours, theirs = fitted.transform(x), pca.transform(x)
    signs = np.sign((ours * theirs).sum(axis=0))
    np.testing.assert_allclose(ours, theirs * signs, atol=1e-8)
    np.testing.assert_allclose(fitted.mean, x.mean(axis=0))  # centred before the SVD


@pytest.mark.parametrize("centre", [False, True])
def test_full_rank_projection_reconstructs(centre: bool) -> None:
    x = _data(30, 6, 2)
    fitted = SVDReducer(dims=6, centre=centre).fit(x)
    np.testing.assert_allclose(fitted.transform(x) @ fitted.components + fitted.mean, x)
    np.testing.assert_allclose(fitted.components @ fitted.components.T, np.eye(6), atol=1e-10)
    assert isinstance(fitted, FittedReducer)


def test_variance_target_keeps_fewest_dimensions() -> None:
    x = _data(100, 8, 3)
    fitted = SVDReducer(variance=0.9).fit(x)
    k = fitted.n_components
    assert fitted.retained_variance[k - 1] >= 0.9 > fitted.retained_variance[k - 2]
    assert fitted.transform(x).shape == (100, k)


@pytest.mark.parametrize("centre", [False, True])
def test_deterministic_signs(centre: bool) -> None:
    x = _data(50, 5, 4)
    a, b = (SVDReducer(dims=3, centre=centre).fit(x),
            SVDReducer(dims=3, centre=centre).fit(x[::-1].copy()))
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


def _numpy_svd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    return s, vt


@pytest.mark.parametrize(("centre", "shape"), [(False, (40, 7)), (True, (40, 7)),
                                               (False, (5, 9)), (True, (5, 9))])
def test_matches_numpy_svd_up_to_sign(centre: bool, shape: tuple[int, int]) -> None:
    x = _data(shape[0], shape[1], 5)
    s, vt = _numpy_svd(x - x.mean(axis=0) if centre else x)
    fitted = SVDReducer(centre=centre).fit(x)
    k = min(shape) - 1 if centre else min(shape)  # the centred matrix loses a rank when n <= d
    np.testing.assert_allclose(fitted.singular_values, s, atol=1e-9)
    np.testing.assert_allclose(fitted.explained_variance_ratio, s**2 / (s**2).sum(), atol=1e-12)
    signs = np.sign((fitted.components[:k] * vt[:k]).sum(axis=1))
    np.testing.assert_allclose(fitted.components[:k], vt[:k] * signs[:, None], atol=1e-9)
    assert fitted.centre is centre
    np.testing.assert_allclose(fitted.mean, x.mean(axis=0) if centre else np.zeros(shape[1]))


def test_default_is_uncentred_as_in_the_paper() -> None:
    x = np.random.default_rng(6).standard_normal((60, 4)) + 10.0
    assert SVDReducer().centre is False and "centre=False" in repr(SVDReducer())
    fitted = SVDReducer(dims=2).fit(x)
    assert fitted.centre is False
    np.testing.assert_allclose(fitted.transform(x), x @ fitted.components.T)
    # the mean (10 per column) dominates the raw second moment: the first direction carries it
    assert fitted.explained_variance_ratio[0] > SVDReducer(centre=True).fit(
        x).explained_variance_ratio[0]


@pytest.mark.parametrize("centre", [False, True])
def test_retained_variance_monotone_and_degenerate_data(centre: bool) -> None:
    curve = SVDReducer(centre=centre).fit(_data(25, 6, 7)).retained_variance
    assert np.all(np.diff(curve) >= -1e-12) and np.isclose(curve[-1], 1.0)
    flat = SVDReducer(centre=centre).fit(np.zeros((4, 3)))  # no variance: a zero curve, no NaN
    np.testing.assert_array_equal(flat.explained_variance_ratio, np.zeros(3))


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10_000), st.sampled_from([False, True]), st.integers(1, 3))
def test_keeps_no_direction_past_the_datas_rank(seed: int, centre: bool, dead: int) -> None:
    # ReLU channels dead for every image: the data has rank d - dead, and the directions past it
    # hold rounding only (a density on them is infinite)
    x = np.abs(_data(40, 6, seed))
    x[:, np.random.default_rng(seed).choice(6, dead, replace=False)] = 0.0
    x_rank = np.linalg.matrix_rank(x - x.mean(0) if centre else x)
    for reducer in (SVDReducer(dims=6, centre=centre), SVDReducer(centre=centre)):
        fitted = reducer.fit(x)
        assert fitted.n_components == x_rank == fitted.transform(x).shape[1]
    assert SVDReducer(dims=2, centre=centre).fit(x).n_components == 2


@pytest.mark.parametrize("centre", [False, True])
def test_bad_inputs_raise(centre: bool) -> None:
    reducer = SVDReducer(dims=2, centre=centre)
    for bad in (np.zeros(5), np.zeros((0, 3)), np.zeros((3, 0)), np.zeros((2, 2, 2))):
        with pytest.raises(ValueError, match="non-empty"):
            reducer.fit(bad)
    with pytest.raises(ValueError, match="infinite"):
        reducer.fit(np.array([[1.0, np.inf], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="dims must be"):
        SVDReducer(dims=0, centre=centre)
