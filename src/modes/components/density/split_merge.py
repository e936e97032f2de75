"""Split-merge Metropolis-Hastings moves for the batched DP-GMM (Dahl 2003; Jain & Neal 2004).

A collapsed Gibbs sweep (:mod:`.sampler`) moves one point (or a block of b points) at a time, so a
chain whose single component covers several well-separated clusters cannot open a second one: a
one-point birth is scored by the broad prior predictive against a component that already explains
every point. A split-merge move proposes whole-component changes instead.

One move, for every row (group x chain) at once:

1. Two distinct points ``i``, ``j`` and an order of the row's other points are drawn uniformly, from
   one random permutation of the row's valid points (so nothing about them depends on the state).
2. ``S`` = the other points of the components of ``i`` and ``j``, in the permutation's order.
   If ``c_i = c_j`` a *split* is proposed: ``A = {i}``, ``B = {j}``, then the points of ``S`` are
   allocated to ``A`` or ``B`` in blocks of growing size (1, 2, 4, ... up to ``max_block``), each
   point of a block independently with probability proportional to
   ``|A| p(x | A)`` vs ``|B| p(x | B)``, the NIW Student-t predictives (Eq. A.5) given the points
   allocated before the block: Dahl's sequentially-allocated merge-split (SAMS), blocked. ``q`` is
   the product of the probabilities of the choices made, exactly the law the split was drawn from.
   If ``c_i != c_j`` a *merge* of the two components is proposed; its reverse is the split above, so
   ``q`` is the probability that the same allocation (same permutation) reproduces the current two
   components, ``i``'s as ``A``.
3. Accept with probability ``min(1, r)``: for a split
   ``r = p(X, c_split | alpha) / p(X, c | alpha) / q`` and for a merge
   ``r = p(X, c_merge | alpha) q / p(X, c | alpha)``, where the ratio of joints (CRP prior x NIW
   marginal likelihoods, Murphy 2007, Eq. 234) involves only the components that change:
   ``alpha Gamma(|A|) Gamma(|B|) / Gamma(|A| + |B|) x m(A) m(B) / m(A u B)``.

For a fixed pair and permutation the proposal maps the merged state to its splits and back, and the
pair and permutation are drawn independently of the state, so each move leaves the posterior
``p(c | X, alpha)`` invariant (the test ``tests/density/test_density_split_merge.py`` checks the
stationary law against exact enumeration of all partitions of small data).

Sufficient statistics are built from the assignments directly (sums and scatter matrices of the
allocated points, one Cholesky per component and allocation block), so a move needs no incremental
state; after the moves :func:`split_merge` rebuilds the sampler state of the rows that changed
exactly (:func:`.sampler.refresh_rows`).
"""

from __future__ import annotations

import math

import attrs
import torch

from .niw import niw_log_marginal, niw_log_predictive
from .sampler import ChainState, SamplerData, refresh_rows

MAX_BLOCK = 16
"""Largest allocation block of the split proposal. Blocks grow 1, 2, 4, ... so that the first
points, which shape both components, are allocated nearly one at a time, and a split of n points
takes about log2(MAX_BLOCK) + n / MAX_BLOCK batched steps instead of n."""


@attrs.frozen(eq=False)
class MoveOutcome:
    """One split-merge move of every row: the new assignments and what was proposed (R,)."""

    z: torch.Tensor  # (R, N) assignments after the move
    proposed: torch.Tensor  # (R, N) the proposed assignments
    split: torch.Tensor  # (R,) bool: a split was proposed (else a merge)
    accepted: torch.Tensor  # (R,) bool
    log_joint_change: torch.Tensor  # (R,) log p(X, proposed | alpha) - log p(X, z | alpha)
    log_q: torch.Tensor  # (R,) log-probability of the split's allocation (proposed or reverse)
    log_ratio: torch.Tensor  # (R,) log r of the Metropolis-Hastings test


@attrs.frozen(eq=False)
class SplitMergeCounts:
    """Proposed and accepted splits and merges per row over a call of :func:`split_merge`."""

    splits_proposed: torch.Tensor
    splits_accepted: torch.Tensor
    merges_proposed: torch.Tensor
    merges_accepted: torch.Tensor


class _Components:
    """Sufficient statistics of ``k`` components per row: counts (R, k), sums (R, k, d) and
    uncentred scatter sums ``sum x x^T`` (R, k, d, d); the NIW posterior follows with ``mu0 = 0``:
    ``kappa_n = kappa0 + n``, ``mu_n = sum / kappa_n``,
    ``Psi_n = psi0 I + sum x x^T - kappa_n mu_n mu_n^T`` (as :func:`.sampler.refresh` builds it).
    ``kappa0`` is a float or (R, 1), one per row."""

    def __init__(self, counts: torch.Tensor, sums: torch.Tensor, scatter: torch.Tensor,
                 kappa0: float | torch.Tensor, data: SamplerData) -> None:
        self.counts, self.sums, self.scatter = counts, sums, scatter
        self.kappa0, self.data = kappa0, data

    @classmethod
    def of_points(cls, x: torch.Tensor, data: SamplerData) -> _Components:
        """One component per point of ``x`` (R, k, d) of the rows of ``data``."""
        return cls(x.new_ones(x.shape[:2]), x.clone(), x.unsqueeze(-1) * x.unsqueeze(-2),
                   data.kappa0, data)

    def rows(self, index: torch.Tensor) -> _Components:
        """The components of rows ``index`` (a copy)."""
        k0 = self.kappa0[index] if isinstance(self.kappa0, torch.Tensor) else self.kappa0
        return _Components(self.counts[index], self.sums[index], self.scatter[index], k0,
                           self.data)

    def set_rows(self, index: torch.Tensor, part: _Components) -> None:
        self.counts[index], self.sums[index], self.scatter[index] = (
            part.counts, part.sums, part.scatter)

    def merged(self) -> _Components:
        """Each row's components as one."""
        return _Components(self.counts.sum(1, keepdim=True), self.sums.sum(1, keepdim=True),
                           self.scatter.sum(1, keepdim=True), self.kappa0, self.data)

    def posterior(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``kappa_n`` (R, k), ``mu_n`` (R, k, d), lower Cholesky of ``Psi_n`` and its log det."""
        kappa = self.kappa0 + self.counts
        mean = self.sums / kappa.unsqueeze(-1)
        eye = torch.eye(self.data.d, dtype=self.sums.dtype, device=self.sums.device)
        psi = (
            self.data.psi0 * eye
            + self.scatter
            - kappa[..., None, None] * mean.unsqueeze(-1) * mean.unsqueeze(-2)
        )
        chol = torch.linalg.cholesky(psi)
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        return kappa, mean, chol, logdet

    def log_marginal(self) -> torch.Tensor:
        """``log p(X_k)`` per component (R, k) under the NIW prior (Murphy 2007, Eq. 234)."""
        _, _, _, logdet = self.posterior()
        d = self.data.d
        return niw_log_marginal(
            self.counts, logdet, d * math.log(self.data.psi0), self.data.nu0, d, self.kappa0
        )

    def log_predictive(self, x: torch.Tensor) -> torch.Tensor:
        """Student-t predictive (Eq. A.5) of each point ``x`` (R, m, d) per component: (R, k, m)."""
        kappa, mean, chol, logdet = self.posterior()
        diff = x.unsqueeze(1) - mean.unsqueeze(2)  # (R, k, m, d)
        sol = torch.linalg.solve_triangular(chol, diff.transpose(-1, -2), upper=False)
        maha = sol.square().sum(-2)  # (R, k, m)
        return niw_log_predictive(
            maha,
            logdet.unsqueeze(-1),
            kappa.unsqueeze(-1),
            (self.data.nu0 + self.counts).unsqueeze(-1),
            self.data.d,
        )

    def add(self, x: torch.Tensor, weight: torch.Tensor) -> None:
        """Add the points ``x`` (R, m, d) with 0/1 weights per component ``weight`` (R, k, m)."""
        self.counts = self.counts + weight.sum(-1)
        self.sums = self.sums + torch.bmm(weight, x)
        weighted = weight.unsqueeze(-1) * x.unsqueeze(1)  # (R, k, m, d)
        self.scatter = self.scatter + weighted.transpose(-1, -2) @ x.unsqueeze(1)


def allocation_blocks(length: int, max_block: int = MAX_BLOCK) -> list[tuple[int, int]]:
    """(start, stop) of the allocation blocks of ``length`` points: 1, 2, 4, ..., max_block."""
    if max_block < 1:
        raise ValueError(f"max_block must be >= 1, got {max_block}")
    blocks, start, size = [], 0, 1
    while start < length:
        stop = min(start + size, length)
        blocks.append((start, stop))
        start, size = stop, min(2 * size, max_block)
    return blocks


@torch.inference_mode()
def split_merge_move(
    z: torch.Tensor,
    alpha: torch.Tensor,
    data: SamplerData,
    generator: torch.Generator,
    max_block: int = MAX_BLOCK,
) -> MoveOutcome:
    """One SAMS split-merge Metropolis-Hastings move of every row (see the module docstring).

    ``z`` (R, N) are the current assignments (any non-negative labels; padded points are ignored)
    and ``alpha`` (R,) the DP concentrations, held fixed. Rows with fewer than two points keep
    their assignments.
    """
    y, valid = data.y, data.valid
    rows, n_max, d = y.shape
    if n_max < 2:
        no, zero = torch.zeros(rows, dtype=torch.bool, device=y.device), y.new_zeros(rows)
        return MoveOutcome(z=z.clone(), proposed=z.clone(), split=no, accepted=no,
                           log_joint_change=zero, log_q=zero, log_ratio=zero)
    keys = torch.rand((rows, n_max), generator=generator, dtype=y.dtype, device=y.device)
    perm = torch.argsort(torch.where(valid, keys, 2.0), dim=1)
    i, j = perm[:, 0], perm[:, 1]
    ci, cj = z.gather(1, i[:, None]).squeeze(1), z.gather(1, j[:, None]).squeeze(1)
    split = ci == cj
    rest = perm[:, 2:]
    in_union = valid & ((z == ci[:, None]) | (z == cj[:, None]))
    member = in_union.gather(1, rest)
    order = torch.argsort((~member).to(torch.int8), dim=1, stable=True)
    s_idx = rest.gather(1, order)  # the union's other points first, in permutation order
    s_len = member.sum(1)
    s_max = int(s_len.max().item())
    # the current allocation of S: i's component is A (only used where a merge is proposed)
    current_a = z.gather(1, s_idx) == ci[:, None]

    xi = y.gather(1, i.view(-1, 1, 1).expand(-1, 1, d))
    xj = y.gather(1, j.view(-1, 1, 1).expand(-1, 1, d))
    comps = _Components.of_points(torch.cat([xi, xj], 1), data)  # (R, 2): A, B
    log_q = y.new_zeros(rows)
    to_a = torch.zeros((rows, s_max), dtype=torch.bool, device=y.device)
    for start, stop in allocation_blocks(s_max, max_block):
        # only rows with points in this block: rows with small components finish early
        live = torch.nonzero(s_len > start).squeeze(1)
        part = comps if live.numel() == rows else comps.rows(live)
        idx = s_idx[live, start:stop]
        x = y.reshape(-1, d)[live.unsqueeze(1) * n_max + idx]  # (L, m, d)
        active = torch.arange(start, stop, device=y.device) < s_len[live, None]  # (L, m)
        logits = part.log_predictive(x) + torch.log(part.counts).unsqueeze(-1)
        log_p = torch.log_softmax(logits, dim=1)  # (L, 2, m)
        u = torch.rand(idx.shape, generator=generator, dtype=y.dtype, device=y.device)
        drawn = torch.log(u) < log_p[:, 0]
        choice = torch.where(split[live, None], drawn, current_a[live, start:stop]) & active
        to_a[live, start:stop] = choice
        chosen = torch.where(choice, log_p[:, 0], log_p[:, 1])
        log_q[live] += torch.where(active, chosen, 0).sum(1)
        part.add(x, torch.stack([choice, active & ~choice], 1).to(y.dtype))
        if part is not comps:
            comps.set_rows(live, part)

    m_ab = comps.log_marginal().sum(1)
    m_c = comps.merged().log_marginal().squeeze(1)
    n_a, n_b = comps.counts[:, 0], comps.counts[:, 1]
    # log p(X, c_split | alpha) - log p(X, c_merged | alpha): CRP and marginal factors that change
    log_split_vs_merged = (
        torch.log(alpha)
        + torch.lgamma(n_a)
        + torch.lgamma(n_b)
        - torch.lgamma(n_a + n_b)
        + m_ab
        - m_c
    )
    log_joint_change = torch.where(split, log_split_vs_merged, -log_split_vs_merged)
    log_ratio = log_joint_change + torch.where(split, -log_q, log_q)
    u = torch.rand(rows, generator=generator, dtype=y.dtype, device=y.device)
    accepted = (torch.log(u) < log_ratio) & (data.n >= 2)

    # a split: j and S's B points take a fresh label; a merge: j's component joins i's
    fresh = torch.where(valid, z, -1).amax(1) + 1
    to_b = torch.zeros((rows, n_max), dtype=torch.bool, device=y.device)
    in_s = torch.arange(s_max, device=y.device) < s_len[:, None]
    to_b.scatter_(1, s_idx[:, :s_max], in_s & ~to_a)
    to_b.scatter_(1, j[:, None], True)
    relabel = torch.where(split[:, None], to_b, valid & (z == cj[:, None]))
    proposed = torch.where(relabel, torch.where(split, fresh, ci)[:, None], z)
    z_new = torch.where(accepted[:, None], proposed, z)
    return MoveOutcome(z=z_new, proposed=proposed, split=split, accepted=accepted,
                       log_joint_change=log_joint_change, log_q=log_q, log_ratio=log_ratio)


@torch.inference_mode()
def split_merge(
    state: ChainState,
    data: SamplerData,
    moves: int,
    generator: torch.Generator,
    max_block: int = MAX_BLOCK,
) -> tuple[ChainState, SplitMergeCounts]:
    """``moves`` split-merge moves of every row, then the exact state of the new assignments.

    Returns the state (its rows where a move was accepted rebuilt exactly from the new assignments
    by :func:`.sampler.refresh_rows`; ``state`` itself when none was) and the proposal and
    acceptance counts per row.
    """
    if moves < 0:
        raise ValueError(f"moves must be >= 0, got {moves}")
    z = state.z
    zeros = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
    sp, sa, mp, ma = zeros.clone(), zeros.clone(), zeros.clone(), zeros.clone()
    for _ in range(moves):
        out = split_merge_move(z, state.alpha, data, generator, max_block)
        z = out.z
        sp += out.split
        sa += out.split & out.accepted
        mp += ~out.split
        ma += ~out.split & out.accepted
    counts = SplitMergeCounts(sp, sa, mp, ma)
    changed = torch.nonzero(sa + ma).squeeze(1)
    if not changed.numel():
        return state, counts
    return refresh_rows(state, data, z, changed), counts
