"""Split-merge moves (:mod:`modes.components.density.split_merge`) leave the posterior invariant.

Exact enumeration: on a few points in 1-2 dims with alpha fixed, p(c | X, alpha) is computed for
every set partition from the NIW marginal likelihood written out independently here (Murphy 2007,
Eq. 234, centred scatter form) and the CRP prior. Many independent rows of the batched sampler,
each started with every point in one component, run split-merge moves (alone, and alternated with
Gibbs sweeps); the partitions of their final states are a sample of the chain's law after T moves,
which a chi-square goodness-of-fit test (cells with expected counts below 5 pooled) compares with
the exact posterior, and whose total-variation distance to it must be within sampling error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import gammaln, multigammaln

from modes.components.density import DPGMM, DPGMMConfig, FittedDPGMM
from modes.components.density.niw import NIWPrior
from modes.components.density.sampler import SamplerData, log_joint, refresh, sweep
from modes.components.density.split_merge import (
    allocation_blocks,
    split_merge,
    split_merge_move,
)
from modes.experiments.worlds import blob_class

PRIOR = NIWPrior("test", kappa0=0.3, dof_per_dim=1.0, dof_offset=2.0, scale_components=2)


def set_partitions(n: int) -> Iterator[tuple[int, ...]]:
    """Every partition of n items as a restricted growth string (labels in order of first use).

    Hand-written: the standard library has none, and the recursion is three lines.
    """

    def grow(prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if len(prefix) == n:
            yield prefix
            return
        for label in range(max(prefix, default=-1) + 2):
            yield from grow((*prefix, label))

    yield from grow(())


def canonical(z: np.ndarray) -> tuple[int, ...]:
    seen: dict[int, int] = {}
    return tuple(seen.setdefault(int(v), len(seen)) for v in z)


def exact_log_joint(
    y: np.ndarray, z: tuple[int, ...], alpha: float, kappa0: float, nu0: float, psi0: float
) -> float:
    """log p(X, c | alpha): CRP prior times NIW marginals with mu0 = 0, Psi0 = psi0 I."""
    n, d = y.shape
    labels = np.asarray(z)
    k = labels.max() + 1
    sizes = np.bincount(labels)
    out = k * math.log(alpha) + gammaln(alpha) - gammaln(alpha + n) + gammaln(sizes).sum()
    psi_0 = psi0 * np.eye(d)
    for c in range(k):
        x = y[labels == c]
        m = x.shape[0]
        xbar = x.mean(0)
        centred = x - xbar
        psi_n = psi_0 + centred.T @ centred + kappa0 * m / (kappa0 + m) * np.outer(xbar, xbar)
        nu_n = nu0 + m
        out += (
            -0.5 * m * d * math.log(math.pi)
            + multigammaln(nu_n / 2, d)
            - multigammaln(nu0 / 2, d)
            + 0.5 * nu0 * np.linalg.slogdet(psi_0)[1]
            - 0.5 * nu_n * np.linalg.slogdet(psi_n)[1]
            + 0.5 * d * (math.log(kappa0) - math.log(kappa0 + m))
        )
    return float(out)


def exact_posterior(
    y: np.ndarray, alpha: float, kappa0: float, nu0: float, psi0: float
) -> dict[tuple[int, ...], float]:
    parts = list(set_partitions(y.shape[0]))
    logp = np.array([exact_log_joint(y, p, alpha, kappa0, nu0, psi0) for p in parts])
    prob = np.exp(logp - logp.max())
    prob /= prob.sum()
    return dict(zip(parts, prob.tolist(), strict=True))


def _data(points: np.ndarray, rows: int, kappa_scale: float | None) -> SamplerData:
    y = torch.as_tensor(np.broadcast_to(points, (rows, *points.shape)).copy())
    scale = None if kappa_scale is None else torch.full((rows,), kappa_scale, dtype=y.dtype)
    return SamplerData(
        y=y,
        valid=torch.ones(rows, points.shape[0], dtype=torch.bool),
        n=torch.full((rows,), points.shape[0]),
        init_components=1,
        niw=PRIOR,
        kappa_scale=scale,
    )


# one dimension: two loose groups and a stray point; two dimensions: a pair, a triple, one far
POINTS_1D = np.array([[-1.6], [-1.1], [-0.4], [0.7], [1.2], [2.4]])
POINTS_2D = np.array([[-1.2, 0.3], [-0.8, 0.9], [0.4, -0.2], [1.0, 0.1], [0.8, 1.3]])


def _chain_sample(
    points: np.ndarray, alpha: float, kappa_scale: float | None, gibbs: int, moves: int,
    steps: int, rows: int, seed: int,
) -> tuple[list[tuple[int, ...]], SamplerData]:
    data = _data(points, rows, kappa_scale)
    gen = torch.Generator().manual_seed(seed)
    z = torch.zeros(rows, points.shape[0], dtype=torch.long)
    state = refresh(data, z, torch.full((rows,), alpha, dtype=torch.float64))
    for _ in range(steps):
        if gibbs:
            state = sweep(state, data, gibbs, gen, metropolis=True)
        state, _ = split_merge(state, data, moves, gen)
    return [canonical(row) for row in state.z.numpy()], data


def _goodness_of_fit(
    sample: list[tuple[int, ...]], exact: dict[tuple[int, ...], float]
) -> tuple[float, float, float]:
    """Chi-square p-value (cells with expected < 5 pooled), TV distance and its sampling bound."""
    rows = len(sample)
    observed = np.array([sum(s == p for s in sample) for p in exact], dtype=float)
    expected = np.array(list(exact.values())) * rows
    big = expected >= 5
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    p = float(stats.chisquare(obs, exp).pvalue)
    tv = 0.5 * float(np.abs(observed / rows - expected / rows).sum())
    # E[TV] of a multinomial sample <= 0.5 sum sqrt(p (1 - p) / rows); allow three times that
    probs = np.array(list(exact.values()))
    bound = 3 * 0.5 * float(np.sqrt(probs * (1 - probs) / rows).sum())
    return p, tv, bound


@pytest.mark.parametrize(
    ("points", "alpha", "kappa_scale", "gibbs", "moves", "steps"),
    [
        (POINTS_1D, 1.0, None, 0, 1, 150),  # split-merge moves only, 203 partitions
        (POINTS_2D, 0.7, 0.5, 0, 1, 150),  # per-row kappa0 (the "within" whitening's path)
        (POINTS_1D, 2.0, None, 1, 2, 25),  # Gibbs (b = 1) sweeps and two moves per sweep
        (POINTS_2D, 1.0, None, 3, 2, 25),  # blocked Metropolis sweeps (b = 3) and moves
    ],
)
def test_chain_reaches_the_exact_posterior_over_partitions(
    points: np.ndarray, alpha: float, kappa_scale: float | None, gibbs: int, moves: int,
    steps: int,
) -> None:
    d = points.shape[1]
    kappa0 = PRIOR.kappa0 * (1.0 if kappa_scale is None else kappa_scale)
    exact = exact_posterior(points, alpha, kappa0, PRIOR.nu0(d), PRIOR.psi0(d))
    assert max(exact.values()) < 0.5  # the posterior is spread: the test has something to find
    sample, _ = _chain_sample(points, alpha, kappa_scale, gibbs, moves, steps, rows=4000, seed=7)
    p, tv, bound = _goodness_of_fit(sample, exact)
    assert p > 1e-3, f"chi-square p = {p:.3g} (TV {tv:.3f})"
    assert tv < bound, f"TV {tv:.3f} above the sampling bound {bound:.3f}"


def test_a_wrong_acceptance_ratio_is_detected() -> None:
    """The same test rejects the chain whose split ratio omits the proposal probability q.

    The moves' proposals are accepted with probability min(1, p'/p), ignoring q; the sample is
    compared with the exact posterior the same way and must fail (the test has power against the
    error it exists to catch).
    """
    alpha, rows = 1.0, 4000
    exact = exact_posterior(POINTS_1D, alpha, PRIOR.kappa0, PRIOR.nu0(1), PRIOR.psi0(1))
    data = _data(POINTS_1D, rows, None)
    gen = torch.Generator().manual_seed(3)
    z = torch.zeros(rows, POINTS_1D.shape[0], dtype=torch.long)
    alphas = torch.full((rows,), alpha, dtype=torch.float64)
    for _ in range(150):
        out = split_merge_move(z, alphas, data, gen)
        u = torch.rand(rows, generator=gen, dtype=torch.float64)
        z = torch.where((torch.log(u) < out.log_joint_change)[:, None], out.proposed, z)
    p, tv, bound = _goodness_of_fit([canonical(r) for r in z.numpy()], exact)
    assert p < 1e-6 and tv > bound, (p, tv, bound)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 7),
    d=st.integers(1, 3),
    alpha=st.floats(0.1, 5.0),
    seed=st.integers(0, 2**16),
    kappa_scale=st.sampled_from([None, 0.2, 3.0]),
)
def test_move_ratio_uses_the_exact_log_joint(
    n: int, d: int, alpha: float, seed: int, kappa_scale: float | None
) -> None:
    """The ratio of joints a move uses equals ``log_joint`` of the proposed minus the current
    assignments (the full CRP x NIW computation of :func:`.sampler.log_joint`), per row; a split
    adds one component, a merge removes one."""
    rng = np.random.default_rng(seed)
    rows = 16
    y = rng.normal(size=(rows, n, d))
    sizes = rng.integers(2, n + 1, size=rows)  # rows padded to n: padding must not count
    data = SamplerData(
        y=torch.as_tensor(y),
        valid=torch.as_tensor(np.arange(n) < sizes[:, None]),
        n=torch.as_tensor(sizes),
        init_components=1,
        niw=PRIOR,
        kappa_scale=None if kappa_scale is None else torch.full((rows,), kappa_scale,
                                                                 dtype=torch.float64),
    )
    z = torch.as_tensor(np.where(np.arange(n) < sizes[:, None],
                                 rng.integers(0, 3, size=(rows, n)), 0))
    alphas = torch.full((rows,), alpha, dtype=torch.float64)
    out = split_merge_move(z, alphas, data, torch.Generator().manual_seed(seed))
    current = log_joint(refresh(data, z, alphas), data)
    proposed = log_joint(refresh(data, out.proposed, alphas), data)
    torch.testing.assert_close(out.log_joint_change, proposed - current, rtol=1e-9, atol=1e-8)
    # a split is scored against its allocation's probability, a merge with its reverse's
    torch.testing.assert_close(
        out.log_ratio, out.log_joint_change + torch.where(out.split, -out.log_q, out.log_q))
    assert bool((out.log_q <= 0).all())
    # a proposal splits one component in two, or merges two into one
    def k(t: torch.Tensor) -> torch.Tensor:
        return torch.tensor([len(torch.unique(r[:m])) for r, m in zip(t, sizes, strict=True)])

    torch.testing.assert_close(k(out.proposed) - k(z), torch.where(out.split, 1, -1))
    torch.testing.assert_close(out.z, torch.where(out.accepted[:, None], out.proposed, z))
    assert bool((out.proposed[~data.valid] == 0).all())  # padding keeps its label


def test_allocation_blocks_cover_every_point_once() -> None:
    assert allocation_blocks(0) == []
    assert allocation_blocks(1) == [(0, 1)]
    blocks = allocation_blocks(300, 16)
    assert [b - a for a, b in blocks][:6] == [1, 2, 4, 8, 16, 16]
    assert blocks[-1][1] == 300
    assert all(a == b_prev for (a, _), (_, b_prev) in zip(blocks[1:], blocks[:-1], strict=True))
    with pytest.raises(ValueError, match="max_block"):
        allocation_blocks(5, 0)


def _planted_and_gaussian(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two planted classes (5 compact blobs each, n 300, d 16, as in the planted worlds) and one
    standard Gaussian class; and 4,000 fresh points of the Gaussian."""
    rng = np.random.default_rng(seed)
    blobs = [blob_class(300, 16, 5, 0.3, rng) + 3 * rng.normal(size=16) for _ in range(2)]
    x = np.concatenate([*blobs, rng.normal(size=(300, 16))])
    return x, np.repeat(np.arange(3), 300), rng.normal(size=(4000, 16))


def _fit(x: np.ndarray, groups: np.ndarray, moves: int, sweeps: int) -> FittedDPGMM:
    config = DPGMMConfig(sweeps=sweeps, burn_in=sweeps - 2, thin=1, chains=2, seed=1,
                         starts=("one", "kmeans"), prior="firm", split_merge=moves)
    return DPGMM(config=config, progress=False).fit(x, groups, warn=False)


@pytest.mark.slow
def test_planted_class_started_at_one_component_finds_its_components() -> None:
    """Under the firm prior, the chain started with one component reaches the k-means start's
    component count and log joint within a few sweeps with split-merge moves, and stays trapped
    1,000+ nats below it without them (Gibbs alone cannot open a component there)."""
    torch.set_num_threads(1)
    x, groups, _ = _planted_and_gaussian(0)
    sweeps = 8
    with_moves = _fit(x, groups, moves=4, sweeps=sweeps).traces
    k, lj = with_moves.num_components[-1], with_moves.log_joint[-1]  # (chains, groups)
    for g in (0, 1):  # the planted classes: chain 0 started at one component, chain 1 k-means
        assert k[0, g] >= k[1, g] - 1, (k[:, g], lj[:, g])
        assert lj[0, g] >= lj[1, g] - 10.0, (k[:, g], lj[:, g])
    without = _fit(x, groups, moves=0, sweeps=sweeps).traces
    assert (without.num_components[:, 0, :2] == 1).all()
    assert (without.log_joint[-1, 1, :2] - without.log_joint[-1, 0, :2] > 1000).all()


@pytest.mark.slow
def test_gaussian_class_density_is_not_changed_by_the_moves() -> None:
    """A Gaussian class under the firm prior: the moves leave its held-out density near the truth
    (as Gibbs alone does), in both chains.

    Its posterior is not one component: single-component log p(X, c) is about 300 nats above a
    typical sampled state, but the many-component states are far more numerous, and chains from
    every start (with or without the moves) hold 5-15 broad components; held-out densities are
    what the measurement reads, and they stay within 0.5 nat/pt of the truth.
    """
    torch.set_num_threads(1)
    x, groups, test = _planted_and_gaussian(0)
    truth = stats.multivariate_normal(np.zeros(16), np.eye(16)).logpdf(test).mean()
    for moves in (0, 4):
        fitted = _fit(x, groups, moves=moves, sweeps=10)
        for c in range(2):
            gap = float(fitted.chain(c).log_prob(test, 2).mean()) - truth
            assert -1.0 < gap < 0.0, (moves, c, gap)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), kappa_scale=st.sampled_from([None, 0.5]))
def test_state_after_moves_is_the_exact_state_of_its_assignments(
    seed: int, kappa_scale: float | None
) -> None:
    """Gibbs sweeps and split-merge moves interleaved: every row's statistics (the rows the moves
    rebuilt and the rows they left to the sweeps' rank-one updates) equal those rebuilt from
    scratch from the assignments, and so does the log joint."""
    rng = np.random.default_rng(seed)
    rows, n, d = 12, 20, 2
    sizes = rng.integers(3, n + 1, size=rows)
    y = rng.normal(size=(rows, n, d)) + 3 * (rng.random((rows, n, 1)) < 0.5)
    data = SamplerData(
        y=torch.as_tensor(y), valid=torch.as_tensor(np.arange(n) < sizes[:, None]),
        n=torch.as_tensor(sizes), init_components=1, niw=PRIOR,
        kappa_scale=None if kappa_scale is None else torch.full((rows,), kappa_scale,
                                                                 dtype=torch.float64),
    )
    gen = torch.Generator().manual_seed(seed)
    state = refresh(data, torch.zeros(rows, n, dtype=torch.long),
                    torch.ones(rows, dtype=torch.float64))
    for _ in range(4):
        state = sweep(state, data, 2, gen, metropolis=True)
        state, _ = split_merge(state, data, 3, gen)
        exact = refresh(data, state.z, state.alpha)
        torch.testing.assert_close(log_joint(state, data), log_joint(exact, data))
        for name in ("mean", "logdet", "counts"):
            mine = getattr(state, name).gather(1, _expand(state.z, getattr(state, name)))
            theirs = getattr(exact, name).gather(1, _expand(exact.z, getattr(exact, name)))
            valid = data.valid if mine.ndim == 2 else data.valid.unsqueeze(-1)
            torch.testing.assert_close(mine * valid, theirs * valid)


def _expand(z: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return z if like.ndim == 2 else z.unsqueeze(-1).expand(-1, -1, like.shape[-1])
