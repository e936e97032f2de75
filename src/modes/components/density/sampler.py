"""Batched blocked collapsed Gibbs sampler for many independent DP-GMMs (Appendix, Eq. A.5-A.6).

Every group (and every chain of every group) is one row ``r`` of padded tensors; a component is a
slot ``k`` of a row. A row's state is the assignment ``z[r, i]`` of each of its points plus, per
slot, the count, the posterior mean, the precision ``Psi_n^-1`` and ``log det Psi_n`` (see
:mod:`.niw`). Empty slots hold exactly the prior, so the DP's "new component" is the row's first
empty slot; capacity grows when a row fills its slots and shrinks at the periodic exact refresh.

One sweep permutes each row's points, cuts the permutation into blocks of ``b`` points and, for
each block position, processes the block of *every* row at once: remove the block's points from
their components (rank-one downdates), draw each block point's assignment independently from
Eq. A.6 given all other assignments, add them back (rank-one updates). Python loops run only over
the ``ceil(n_max / b)`` block positions and the ``b`` points of a block.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .alpha import resample_alpha
from .niw import (
    KAPPA0,
    niw_log_marginal,
    niw_log_predictive,
    prior_nu0,
    prior_scale,
    rank_one_update,
)

GROW_BY = 4


@dataclass
class SamplerData:
    """Static inputs: whitened padded points ``y`` (R, N, d), ``valid`` (R, N), sizes ``n`` (R,)."""

    y: torch.Tensor
    valid: torch.Tensor
    n: torch.Tensor
    init_components: int

    @property
    def d(self) -> int:
        return int(self.y.shape[-1])

    @property
    def nu0(self) -> float:
        return prior_nu0(self.d)

    @property
    def psi0(self) -> float:
        """``Psi0 = psi0 * I`` in whitened coordinates."""
        return prior_scale(self.d, self.init_components)


@dataclass
class ChainState:
    """Mutable state of all rows; ``counts``/``mean``/``precision``/``logdet`` are per slot."""

    z: torch.Tensor  # (R, N) long
    counts: torch.Tensor  # (R, K)
    mean: torch.Tensor  # (R, K, d)
    precision: torch.Tensor  # (R, K, d, d)
    logdet: torch.Tensor  # (R, K)
    alpha: torch.Tensor  # (R,)

    @property
    def capacity(self) -> int:
        return int(self.counts.shape[1])

    def arrays(self) -> dict[str, torch.Tensor]:
        return {
            "z": self.z,
            "counts": self.counts,
            "mean": self.mean,
            "precision": self.precision,
            "logdet": self.logdet,
            "alpha": self.alpha,
        }


def init_state(data: SamplerData, generator: torch.Generator) -> ChainState:
    """Random assignment of each point to one of ``init_components`` slots; alpha = 1."""
    rows, n_max, _ = data.y.shape
    z = torch.randint(
        0, data.init_components, (rows, n_max), generator=generator, device=data.y.device
    )
    alpha = torch.ones(rows, dtype=data.y.dtype, device=data.y.device)
    return refresh(data, z, alpha, headroom=1)


def refresh(
    data: SamplerData,
    z: torch.Tensor,
    alpha: torch.Tensor,
    headroom: int = 2,
) -> ChainState:
    """Exact sufficient statistics from the assignments ``z`` (drift-free), slots compacted.

    Occupied slots keep their relative order and move to the front; capacity becomes the largest
    occupied count plus ``headroom`` (at least one empty slot per row).
    """
    y, valid = data.y, data.valid
    rows, _, d = y.shape
    old_cap = int(z[valid].max().item()) + 1 if bool(valid.any()) else 1
    onehot = torch.nn.functional.one_hot(z, old_cap).to(y.dtype) * valid.unsqueeze(-1)
    occupied = onehot.sum(1) > 0
    order = torch.argsort((~occupied).to(torch.int8), dim=1, stable=True)
    relabel = torch.argsort(order, dim=1)
    z = torch.where(valid, relabel.gather(1, z), torch.zeros_like(z))
    capacity = int(occupied.sum(1).max().item()) + headroom
    onehot = torch.nn.functional.one_hot(z, capacity).to(y.dtype) * valid.unsqueeze(-1)
    counts = onehot.sum(1)
    kappa = KAPPA0 + counts
    mean = torch.bmm(onehot.transpose(1, 2), y) / kappa.unsqueeze(-1)
    eye = torch.eye(d, dtype=y.dtype, device=y.device)
    psi = torch.empty(rows, capacity, d, d, dtype=y.dtype, device=y.device)
    for k in range(capacity):
        weighted = y * onehot[:, :, k : k + 1]
        psi[:, k] = torch.bmm(weighted.transpose(1, 2), y)
    psi += data.psi0 * eye
    psi -= kappa[..., None, None] * mean.unsqueeze(-1) * mean.unsqueeze(-2)
    chol = torch.linalg.cholesky(psi)
    precision = torch.cholesky_inverse(chol)
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    return ChainState(
        z=z, counts=counts, mean=mean, precision=precision, logdet=logdet, alpha=alpha
    )


def grow(state: ChainState, data: SamplerData, extra: int = GROW_BY) -> ChainState:
    """Append ``extra`` empty (prior) slots to every row."""
    rows, _, d = state.mean.shape
    y = data.y
    eye = torch.eye(d, dtype=y.dtype, device=y.device)
    counts = torch.zeros(rows, extra, dtype=y.dtype, device=y.device)
    return ChainState(
        z=state.z,
        counts=torch.cat([state.counts, counts], 1),
        mean=torch.cat(
            [state.mean, torch.zeros(rows, extra, d, dtype=y.dtype, device=y.device)], 1
        ),
        precision=torch.cat([state.precision, (eye / data.psi0).expand(rows, extra, d, d)], 1),
        logdet=torch.cat([state.logdet, torch.full_like(counts, d * math.log(data.psi0))], 1),
        alpha=state.alpha,
    )


def _move_point(
    state: ChainState,
    data: SamplerData,
    slot: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor,
    rows: torch.Tensor,
    removing: bool,
) -> None:
    """Add (weight 1) / remove (-1) / skip (0) point ``x[r]`` in slot ``slot[r]`` of every row r."""
    cnt = state.counts[rows, slot]
    precision, logdet, mean = rank_one_update(
        state.precision[rows, slot],
        state.logdet[rows, slot],
        state.mean[rows, slot],
        KAPPA0 + cnt,
        x,
        weight,
    )
    cnt = cnt + weight
    emptied = cnt == 0
    if removing:  # a removal can empty a slot: reset it to the exact prior
        d = x.shape[-1]
        p0 = torch.eye(d, dtype=x.dtype, device=x.device) / data.psi0
        precision = torch.where(emptied[:, None, None], p0, precision)
        logdet = torch.where(emptied, d * math.log(data.psi0), logdet)
        mean = torch.where(emptied[:, None], 0.0, mean)
    state.counts[rows, slot] = cnt
    state.precision[rows, slot] = precision
    state.logdet[rows, slot] = logdet
    state.mean[rows, slot] = mean


def assignment_logits(state: ChainState, data: SamplerData, xb: torch.Tensor) -> torch.Tensor:
    """Eq. A.6: unnormalised log p(c_i = k | c_-block, x_i) for each slot k, (R, K, b).

    Occupied slots: log n_k + log Student-t predictive; the first empty slot: log alpha + log prior
    predictive; other empty slots: -inf.
    """
    d = data.d
    diff = xb.unsqueeze(1) - state.mean.unsqueeze(2)  # (R, K, b, d)
    maha = (torch.matmul(diff, state.precision) * diff).sum(-1)
    counts = state.counts
    loglik = niw_log_predictive(
        maha,
        state.logdet.unsqueeze(-1),
        (KAPPA0 + counts).unsqueeze(-1),
        (data.nu0 + counts).unsqueeze(-1),
        d,
    )
    empty = counts == 0
    first_empty = empty & (torch.cumsum(empty.to(torch.int32), 1) == 1)
    log_w = torch.where(
        empty,
        torch.where(first_empty, torch.log(state.alpha).unsqueeze(1), -math.inf),
        torch.log(counts),
    )
    return loglik + log_w.unsqueeze(-1)


def sweep(
    state: ChainState,
    data: SamplerData,
    block_size: int,
    generator: torch.Generator,
) -> ChainState:
    """One pass of blocked CGS over every row's points (random permutation, blocks of b)."""
    y, valid = data.y, data.valid
    rows, n_max, d = y.shape
    b = block_size
    steps = -(-n_max // b)
    keys = torch.rand((rows, n_max), generator=generator, dtype=y.dtype, device=y.device)
    perm = torch.argsort(torch.where(valid, keys, 2.0), dim=1)
    pad = steps * b - n_max
    if pad:
        perm = torch.cat([perm, perm[:, :1].expand(rows, pad)], 1)
    position = torch.arange(steps * b, device=y.device)
    in_range = (position.unsqueeze(0) < data.n.unsqueeze(1)).to(y.dtype)
    ar = torch.arange(rows, device=y.device)
    for t in range(steps):
        idx = perm[:, t * b : (t + 1) * b]
        w = in_range[:, t * b : (t + 1) * b]
        xb = y.gather(1, idx.unsqueeze(-1).expand(-1, -1, d))
        zb = state.z.gather(1, idx)
        for j in range(b):
            _move_point(state, data, zb[:, j], xb[:, j], -w[:, j], ar, True)
        logits = assignment_logits(state, data, xb)
        u = torch.rand(logits.shape, generator=generator, dtype=y.dtype, device=y.device)
        gumbel = -torch.log(-torch.log(u.clamp_min(torch.finfo(y.dtype).tiny)))
        znew = torch.argmax(logits + gumbel, dim=1)
        znew = torch.where(w > 0, znew, zb)
        for j in range(b):
            _move_point(state, data, znew[:, j], xb[:, j], w[:, j], ar, False)
        state.z.scatter_(1, idx, znew)
        if bool((state.counts > 0).all(1).any()):
            state = grow(state, data)
    return state


def log_joint(state: ChainState, data: SamplerData) -> torch.Tensor:
    """log p(X, c | alpha) per row: CRP prior of the partition plus NIW marginal likelihoods."""
    counts = state.counts
    occupied = counts > 0
    k = occupied.sum(1).to(counts.dtype)
    n = data.n.to(counts.dtype)
    alpha = state.alpha
    log_crp = (
        k * torch.log(alpha)
        + torch.where(occupied, torch.lgamma(counts.clamp_min(1)), 0).sum(1)
        + torch.lgamma(alpha)
        - torch.lgamma(alpha + n)
    )
    d = data.d
    marg = niw_log_marginal(counts, state.logdet, d * math.log(data.psi0), data.nu0, d)
    return log_crp + torch.where(occupied, marg, 0).sum(1)


@dataclass
class SweepRecord:
    """What one sweep leaves in the traces (per row)."""

    log_joint: torch.Tensor
    num_components: torch.Tensor
    alpha: torch.Tensor


def end_of_sweep(
    state: ChainState, data: SamplerData, generator: torch.Generator, do_refresh: bool
) -> tuple[ChainState, SweepRecord]:
    """Optional exact refresh, the trace record, then the Escobar-West alpha update."""
    if do_refresh:
        state = refresh(data, state.z, state.alpha)
    record = SweepRecord(
        log_joint=log_joint(state, data),
        num_components=(state.counts > 0).sum(1),
        alpha=state.alpha.clone(),
    )
    state.alpha = resample_alpha(state.alpha, record.num_components, data.n, generator)
    return state, record


SweepCallback = Callable[[int, ChainState, SweepRecord], None]
