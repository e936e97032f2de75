"""Geweke (2004) "getting it right" test of the sampler kernel, b = 1 (plain CGS) and b = 4.

At the sampler level the model is proper and generative (whitened coordinates: mu0 = 0,
Psi0 = psi0 I): alpha ~ Gamma(1, 1), c ~ CRP(alpha), (mu_k, Sigma_k) ~ NIW, y ~ N(mu_c, Sigma_c).
Marginal-conditional: R independent prior draws. Successive-conditional: R rows started from
independent prior draws, each then alternating T times one sampler sweep + alpha update given y and
a fresh y ~ p(y | c). Both kernels leave the joint invariant, so if the sampler is correct every row
is still an exact joint draw after T steps and the two samples of any statistic have one law.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from modes.components.density.niw import KAPPA0, prior_nu0
from modes.components.density.sampler import SamplerData, end_of_sweep, refresh, sweep
from modes.components.density.split_merge import split_merge

ROWS, POINTS, DIM, K0, STEPS = 3000, 6, 2, 6, 12


def _crp(alpha: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    z = np.zeros((alpha.size, n), dtype=np.int64)
    for i in range(1, n):
        counts = np.stack([(z[:, :i] == k).sum(1) for k in range(n)], 1).astype(float)
        new = (counts > 0).sum(1)
        w = counts.copy()
        w[np.arange(alpha.size), new] = alpha
        u = rng.random(alpha.size) * w.sum(1)
        z[:, i] = (np.cumsum(w, 1) < u[:, None]).sum(1)
    return z


def _data_given(z: np.ndarray, psi0: float, rng: np.random.Generator) -> np.ndarray:
    """y ~ p(y | c): per cluster a fresh (mu, Sigma) ~ NIW(0, KAPPA0, nu0, psi0 I)."""
    rows, n = z.shape
    nu0 = prior_nu0(DIM)
    sigma = stats.invwishart(df=nu0, scale=psi0 * np.eye(DIM)).rvs(
        size=(rows * n), random_state=rng
    )
    sigma = sigma.reshape(rows, n, DIM, DIM)
    chol = np.linalg.cholesky(sigma)
    mu = np.einsum("rkde,rke->rkd", chol, rng.normal(size=(rows, n, DIM))) / np.sqrt(KAPPA0)
    r = np.arange(rows)[:, None]
    return mu[r, z] + np.einsum("rnde,rne->rnd", chol[r, z], rng.normal(size=(rows, n, DIM)))


def _statistics(z: np.ndarray, alpha: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    k = np.array([np.unique(row).size for row in z])
    return {
        "components": np.minimum(k, 4),
        "alpha": alpha,
        "together01": z[:, 0] == z[:, 1],
        "y_sq": (y[:, 0] ** 2).sum(-1),
    }


def _geweke(
    block_size: int,
    metropolis: bool = False,
    points: int = POINTS,
    dtype: torch.dtype = torch.float64,
    moves: int = 0,
) -> list[tuple[str, float]]:
    rng = np.random.default_rng(20240 + block_size)
    gen = torch.Generator().manual_seed(block_size)
    psi0 = K0 ** (-2.0 / DIM)
    alpha = rng.gamma(1.0, 1.0, size=ROWS)
    z = _crp(alpha, points, rng)
    y = _data_given(z, psi0, rng)
    marginal = _statistics(z, alpha, y)

    alpha = rng.gamma(1.0, 1.0, size=ROWS)
    z = _crp(alpha, points, rng)
    y = _data_given(z, psi0, rng)
    valid = torch.ones(ROWS, points, dtype=torch.bool)
    n = torch.full((ROWS,), points)
    zt, at = torch.as_tensor(z), torch.as_tensor(alpha)
    for _ in range(STEPS):
        data = SamplerData(y=torch.as_tensor(y, dtype=dtype), valid=valid, n=n,
                           init_components=K0)
        state = sweep(refresh(data, zt, at), data, block_size, gen, metropolis=metropolis)
        state, _ = split_merge(state, data, moves, gen)
        state, _ = end_of_sweep(state, data, gen, do_refresh=False)
        zt, at = state.z, state.alpha
        y = _data_given(zt.numpy(), psi0, rng)
    successive = _statistics(zt.numpy(), at.numpy(), y)

    pvalues = []
    for name in marginal:
        a, b = marginal[name], successive[name]
        if name in ("alpha", "y_sq"):
            p = stats.ks_2samp(a, b).pvalue
        else:
            levels = np.union1d(a, b)
            table = np.array([[np.sum(a == v), np.sum(b == v)] for v in levels])
            p = stats.chi2_contingency(table).pvalue
        pvalues.append((name, float(p)))
    return pvalues


@pytest.mark.slow
@pytest.mark.parametrize(
    ("block_size", "metropolis", "points", "dtype", "moves"),
    [(1, False, POINTS, torch.float64, 0), (4, True, POINTS, torch.float64, 0),
     (4, True, 3, torch.float64, 0), (4, True, POINTS, torch.float32, 0),
     (1, False, POINTS, torch.float64, 2), (4, True, POINTS, torch.float64, 2),
     (4, True, POINTS, torch.float32, 2)],
)
def test_sampler_leaves_the_joint_invariant(block_size: int, metropolis: bool, points: int,
                                            dtype: torch.dtype, moves: int) -> None:
    """b = 1 (plain CGS), b = 4 with the Metropolis correction, a group smaller than b, the
    b = 4 kernel in float32 (supported as an option; float64 is the default), and both kernels
    followed by two split-merge moves per sweep (:mod:`.split_merge`)."""
    pvalues = _geweke(block_size, metropolis, points, dtype, moves)
    # 4 statistics: Bonferroni at family-wise 0.01.
    failed = [(name, p) for name, p in pvalues if p < 0.01 / len(pvalues)]
    assert not failed, f"b={block_size}: marginal vs successive laws differ: {pvalues}"


@pytest.mark.slow
def test_independent_block_sampling_is_detected_as_approximate() -> None:
    """The paper's b = 4 scheme draws a block's assignments independently given the rest.

    That is not the block's joint conditional (Eq. A.6 as written), so the kernel does not leave
    the posterior exactly invariant; with 6 points the bias is large and the same test detects it
    (p ~ 1e-160 for the component count). This documents the approximation and the test's power;
    ``block_update="metropolis"`` (the default) removes the bias.
    """
    pvalues = dict(_geweke(4, metropolis=False))
    assert pvalues["components"] < 1e-6, f"b=4 bias no longer detected: {pvalues}"
