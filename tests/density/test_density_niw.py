"""NIW algebra: Student-t predictive vs scipy, rank-one updates vs recomputation, marginals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modes.components.density.alpha import sample_gamma
from modes.components.density.niw import (
    KAPPA0,
    niw_log_marginal,
    niw_log_predictive,
    rank_one_update,
    student_t_log_prob,
)

SETTINGS = settings(deadline=None, max_examples=25)


def T(a: object) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.5 * np.eye(d)


def _posterior(
    y: np.ndarray, psi0: float, nu0: float
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Textbook NIW posterior (mu0 = 0, Psi0 = psi0 I) from scratch (Murphy 2007, Eq. 251-254)."""
    n, d = y.shape
    kappa, nu = KAPPA0 + n, nu0 + n
    ybar = y.mean(0) if n else np.zeros(d)
    scatter = (y - ybar).T @ (y - ybar)
    mean = n * ybar / kappa
    psi = psi0 * np.eye(d) + scatter + KAPPA0 * n / kappa * np.outer(ybar, ybar)
    return kappa, nu, mean, psi


@SETTINGS
@given(
    d=st.integers(1, 5), m=st.integers(1, 6), df=st.floats(0.5, 40.0), seed=st.integers(0, 10**6)
)
def test_student_t_matches_scipy(d: int, m: int, df: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape, loc = _spd(rng, d), rng.normal(size=d) * 3
    x = loc + rng.standard_t(df, size=(m, d)) * 2
    ours = student_t_log_prob(T(x), T(loc), torch.linalg.cholesky(T(shape)), df)
    ref = stats.multivariate_t(loc=loc, shape=shape, df=df).logpdf(x)
    np.testing.assert_allclose(ours.numpy(), np.atleast_1d(ref), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(d=st.integers(1, 5), n=st.integers(0, 12), seed=st.integers(0, 10**6))
def test_niw_predictive_is_the_posterior_student_t(d: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, x = rng.normal(size=(n, d)) * 1.5 + 1, rng.normal(size=(4, d)) * 2
    psi0, nu0 = 0.7, d + 2.0
    kappa, nu, mean, psi = _posterior(y, psi0, nu0)
    diff = x - mean
    maha = np.einsum("md,de,me->m", diff, np.linalg.inv(psi), diff)
    ours = niw_log_predictive(T(maha), T(np.linalg.slogdet(psi)[1]), T(kappa), T(nu), d)
    df = nu - d + 1
    ref = stats.multivariate_t(loc=mean, shape=psi * (kappa + 1) / (kappa * df), df=df).logpdf(x)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(d=st.integers(1, 6), n=st.integers(2, 15), seed=st.integers(0, 10**6))
def test_rank_one_add_and_remove_equal_recomputation(d: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, d)) * rng.uniform(0.2, 3, size=d) + rng.normal(size=d)
    psi0, nu0 = 0.5, d + 2.0
    _, _, mean, psi = _posterior(y[:-1], psi0, nu0)
    prec = T(np.linalg.inv(psi))[None]
    logdet = T([np.linalg.slogdet(psi)[1]])
    kappa = T([KAPPA0 + n - 1])
    x = T(y[-1])[None]
    # add the last point
    one = torch.ones(1, dtype=torch.float64)
    pmean = prec[0] @ T(mean)
    p2, l2, m2, pm2, _ = rank_one_update(prec, logdet, T(mean)[None], kappa, x, one, pmean[None])
    _, _, mean_full, psi_full = _posterior(y, psi0, nu0)
    np.testing.assert_allclose(p2[0].numpy(), np.linalg.inv(psi_full), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(l2.item(), np.linalg.slogdet(psi_full)[1], rtol=1e-10)
    np.testing.assert_allclose(m2[0].numpy(), mean_full, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        pm2[0].numpy(), np.linalg.solve(psi_full, mean_full), rtol=1e-8, atol=1e-10
    )
    # remove it again
    p3, l3, m3, pm3, _ = rank_one_update(p2, l2, m2, kappa + 1, x, -one, pm2)
    np.testing.assert_allclose(p3[0].numpy(), np.linalg.inv(psi), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(l3.item(), np.linalg.slogdet(psi)[1], rtol=1e-9)
    np.testing.assert_allclose(m3[0].numpy(), mean, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(pm3[0].numpy(), np.linalg.solve(psi, mean), rtol=1e-7, atol=1e-9)
    # weight 0 leaves everything unchanged
    p4, l4, m4, _, _ = rank_one_update(p2, l2, m2, kappa + 1, x, 0 * one)
    assert torch.equal(p4, p2) and torch.equal(l4, l2) and torch.equal(m4, m2)


@SETTINGS
@given(d=st.integers(1, 4), n=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_marginal_likelihood_is_the_product_of_sequential_predictives(
    d: int, n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, d)) * 2
    psi0, nu0 = 0.6, d + 2.0
    chain = 0.0
    for i in range(n):
        kappa, nu, mean, psi = _posterior(y[:i], psi0, nu0)
        diff = y[i] - mean
        maha = diff @ np.linalg.solve(psi, diff)
        chain += niw_log_predictive(
            T(maha), T(np.linalg.slogdet(psi)[1]), T(kappa), T(nu), d
        ).item()
    _, _, _, psi_n = _posterior(y, psi0, nu0)
    marg = niw_log_marginal(T(float(n)), T(np.linalg.slogdet(psi_n)[1]), d * math.log(psi0), nu0, d)
    assert marg.item() == pytest.approx(chain, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("shape", [0.3, 1.0, 4.5])
def test_gamma_sampler_matches_scipy(shape: float) -> None:
    gen = torch.Generator().manual_seed(1)
    draws = sample_gamma(torch.full((4000,), shape, dtype=torch.float64), gen).numpy()
    p = stats.kstest(draws, stats.gamma(shape).cdf).pvalue
    assert p > 1e-3, f"Gamma({shape}) sampler KS p = {p:.2g}"
