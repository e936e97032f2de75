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
    """Mutable state of all rows.

    ``precision`` (R, K, d, d) holds ``Psi_n^-1`` per slot; ``stats`` (R, K, 2d + 2) packs, per
    slot, the posterior mean, ``Psi_n^-1 mu_n``, ``log det Psi_n`` and the count, so that moving a
    point reads and writes two tensors.
    """

    z: torch.Tensor  # (R, N) long
    precision: torch.Tensor  # (R, K, d, d)
    stats: torch.Tensor  # (R, K, 2d + 2)
    alpha: torch.Tensor  # (R,)

    @property
    def d(self) -> int:
        return int(self.precision.shape[-1])

    @property
    def capacity(self) -> int:
        return int(self.stats.shape[1])

    @property
    def mean(self) -> torch.Tensor:
        return self.stats[..., : self.d]

    @property
    def pmean(self) -> torch.Tensor:
        """``Psi_n^-1 mu_n`` per slot."""
        return self.stats[..., self.d : 2 * self.d]

    @property
    def logdet(self) -> torch.Tensor:
        return self.stats[..., 2 * self.d]

    @property
    def counts(self) -> torch.Tensor:
        return self.stats[..., 2 * self.d + 1]

    def arrays(self) -> dict[str, torch.Tensor]:
        return {"z": self.z, "precision": self.precision, "stats": self.stats, "alpha": self.alpha}


def pack_stats(
    mean: torch.Tensor, pmean: torch.Tensor, logdet: torch.Tensor, counts: torch.Tensor
) -> torch.Tensor:
    return torch.cat([mean, pmean, logdet.unsqueeze(-1), counts.unsqueeze(-1)], -1)


def prior_slot(data: SamplerData) -> tuple[torch.Tensor, torch.Tensor]:
    """Precision (d, d) and packed stats (2d + 2,) of an empty slot (exactly the prior)."""
    d, y = data.d, data.y
    precision = torch.eye(d, dtype=y.dtype, device=y.device) / data.psi0
    stats = torch.zeros(2 * d + 2, dtype=y.dtype, device=y.device)
    stats[2 * d] = d * math.log(data.psi0)
    return precision, stats


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
    precision = torch.cholesky_inverse(chol).contiguous()
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    pmean = torch.matmul(precision, mean.unsqueeze(-1)).squeeze(-1)
    return ChainState(
        z=z, precision=precision, stats=pack_stats(mean, pmean, logdet, counts), alpha=alpha
    )


def grow(state: ChainState, data: SamplerData, extra: int = GROW_BY) -> ChainState:
    """Append ``extra`` empty (prior) slots to every row."""
    rows = state.stats.shape[0]
    p0, s0 = prior_slot(data)
    d = data.d
    return ChainState(
        z=state.z,
        precision=torch.cat([state.precision, p0.expand(rows, extra, d, d)], 1),
        stats=torch.cat([state.stats, s0.expand(rows, extra, -1)], 1),
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
) -> tuple[torch.Tensor, torch.Tensor]:
    """Add (weight 1) / remove (-1) / skip (0) point ``x[r]`` in slot ``slot[r]`` of every row r.

    Returns the two factors of the block's joint conditional that this move settles (used by the
    Metropolis correction): the log Student-t predictive of ``x`` given the slot *without* it, and
    that slot's count without it (the CRP numerator; 0 means "alpha").
    """
    d = data.d
    stats = state.stats[rows, slot]
    mean, pmean, logdet, cnt = stats[:, :d], stats[:, d : 2 * d], stats[:, 2 * d], stats[:, -1]
    kappa = KAPPA0 + cnt
    precision, new_logdet, new_mean, new_pmean, quad = rank_one_update(
        state.precision[rows, slot], logdet, mean, kappa, x, weight, pmean
    )
    stats = pack_stats(new_mean, new_pmean, new_logdet, cnt + weight)  # type: ignore[arg-type]
    emptied = (stats[:, -1] == 0).unsqueeze(-1)
    if removing and bool(emptied.any()):  # an emptied slot is reset to the exact prior
        p0, s0 = prior_slot(data)
        precision = torch.where(emptied.unsqueeze(-1), p0, precision)
        stats = torch.where(emptied, s0, stats)
    state.precision[rows, slot] = precision
    state.stats[rows, slot] = stats
    if removing:  # the predictive under the post-removal slot: (kappa / kappa')^2 quad / denom
        kappa_after = kappa + weight
        denom = torch.exp(new_logdet - logdet)
        quad = (kappa / kappa_after) ** 2 * quad / denom
        quad = torch.where(emptied[:, 0], x.square().sum(-1) / data.psi0, quad)
        kappa, cnt, logdet = kappa_after, cnt + weight, stats[:, 2 * d]
    log_pred = niw_log_predictive(quad, logdet, kappa, data.nu0 + cnt, d)
    return log_pred, cnt


def assignment_logits(state: ChainState, data: SamplerData, xb: torch.Tensor) -> torch.Tensor:
    """Eq. A.6: unnormalised log p(c_i = k | c_-block, x_i) for each slot k, (R, K, b).

    Occupied slots: log n_k + log Student-t predictive; the first empty slot: log alpha + log prior
    predictive; other empty slots: -inf. The Mahalanobis terms come from one GEMM per row,
    ``(x - 2 mu)^T (P x) + mu^T P mu``.
    """
    d = data.d
    rows, cap = state.stats.shape[:2]
    px = torch.bmm(state.precision.view(rows, cap * d, d), xb.transpose(1, 2))
    px = px.view(rows, cap, d, -1)  # (R, K, d, b)
    mean = state.mean
    maha = ((xb.transpose(1, 2).unsqueeze(1) - 2 * mean.unsqueeze(-1)) * px).sum(2)
    maha = maha + (mean * state.pmean).sum(-1, keepdim=True)
    counts = state.counts
    loglik = niw_log_predictive(
        maha.clamp_min(0),
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


def _log_crp_factor(count: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.where(count > 0, count, alpha))


def sweep(
    state: ChainState,
    data: SamplerData,
    block_size: int,
    generator: torch.Generator,
    metropolis: bool = False,
) -> ChainState:
    """One pass of blocked CGS over every row's points (random permutation, blocks of b).

    Each block's b assignments are drawn independently from their conditionals given the rest
    (the paper's scheme, Eq. A.6). That is the exact block conditional only for b = 1; with
    ``metropolis`` the draw is a proposal accepted with the Metropolis-Hastings ratio of the
    block's exact joint conditional (CRP x sequential Student-t predictives), which makes the
    kernel leave the posterior exactly invariant for any b. All "new component" choices of a block
    share one new component, so a state whose block points form two or more components of their
    own is not proposed and such a block keeps its assignments until the next permutation.
    """
    y, valid = data.y, data.valid
    rows, n_max, d = y.shape
    b = block_size
    # a row's blocks hold at most n - 1 points, so that every block leaves some point outside it
    row_b = torch.clamp(data.n - 1, min=1, max=b)
    steps = int(torch.max(-(-data.n // row_b)).item())
    keys = torch.rand((rows, n_max), generator=generator, dtype=y.dtype, device=y.device)
    perm = torch.argsort(torch.where(valid, keys, 2.0), dim=1)
    col = torch.arange(b, device=y.device)
    ar = torch.arange(rows, device=y.device)
    correct = metropolis and b > 1
    for t in range(steps):
        pos = t * row_b.unsqueeze(1) + col  # (R, b) positions in each row's permutation
        w = ((col < row_b.unsqueeze(1)) & (pos < data.n.unsqueeze(1))).to(y.dtype)
        idx = perm.gather(1, pos.clamp_max(n_max - 1))
        xb = y.gather(1, idx.unsqueeze(-1).expand(-1, -1, d))
        zb = state.z.gather(1, idx)
        log_target = torch.zeros(rows, dtype=y.dtype, device=y.device)
        for j in range(b):
            log_pred, count = _move_point(state, data, zb[:, j], xb[:, j], -w[:, j], ar, True)
            if correct:
                log_target -= w[:, j] * (log_pred + _log_crp_factor(count, state.alpha))
        logits = assignment_logits(state, data, xb)
        u = torch.rand(logits.shape, generator=generator, dtype=y.dtype, device=y.device)
        gumbel = -torch.log(-torch.log(u.clamp_min(torch.finfo(y.dtype).tiny)))
        znew = torch.argmax(logits + gumbel, dim=1)
        znew = torch.where(w > 0, znew, zb)
        if correct:
            log_q = torch.log_softmax(logits, dim=1)
            log_ratio = log_target + _proposal_log_ratio(state, log_q, zb, znew, w)
        for j in range(b):
            log_pred, count = _move_point(state, data, znew[:, j], xb[:, j], w[:, j], ar, False)
            if correct:
                log_ratio += w[:, j] * (log_pred + _log_crp_factor(count, state.alpha))
        if correct:
            accept_u = torch.rand(rows, generator=generator, dtype=y.dtype, device=y.device)
            reject = torch.log(accept_u) >= log_ratio
            # a rejected block moves back only the points whose proposal differs from their old slot
            back = w * (reject.unsqueeze(1) & (znew != zb)).to(w.dtype)
            moved = back.sum(0) > 0
            if bool(moved.any()):
                for j in torch.nonzero(moved).flatten().tolist():
                    _move_point(state, data, znew[:, j], xb[:, j], -back[:, j], ar, True)
                    _move_point(state, data, zb[:, j], xb[:, j], back[:, j], ar, False)
                znew = torch.where(reject.unsqueeze(1), zb, znew)
        # masked columns may repeat a position of the block: point them at column 0 and give them
        # column 0's value, so that the scatter is deterministic
        valid_col = w > 0
        state.z.scatter_(
            1, torch.where(valid_col, idx, idx[:, :1]), torch.where(valid_col, znew, znew[:, :1])
        )
        if bool((state.counts > 0).all(1).any()):
            state = grow(state, data)
    return state


def _proposal_log_ratio(
    state: ChainState, log_q: torch.Tensor, old: torch.Tensor, new: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """log q(old) - log q(new) for the independent block proposal, (R,).

    ``log_q`` (R, K, b) are the per-point proposal log-probabilities with the block removed. An old
    slot emptied by the removal is proposed as the first empty slot; old block points spread over
    two or more emptied slots cannot be proposed (log q(old) = -inf: the move is rejected).
    """
    counts = state.counts  # block removed
    emptied_old = counts.gather(1, old) == 0
    empty = counts == 0
    first_empty = torch.argmax(empty.to(torch.int8), dim=1, keepdim=True)
    old_as_proposed = torch.where(emptied_old, first_empty, old)
    own = torch.where(emptied_old & (w > 0), old, -1)
    distinct = (
        (own.unsqueeze(1) != own.unsqueeze(2)) & (own.unsqueeze(1) >= 0) & (own.unsqueeze(2) >= 0)
    )
    unreachable = distinct.any(2).any(1)
    lq_old = (log_q.gather(1, old_as_proposed.unsqueeze(1)).squeeze(1) * w).sum(1)
    lq_new = (log_q.gather(1, new.unsqueeze(1)).squeeze(1) * w).sum(1)
    return torch.where(unreachable, -math.inf, lq_old - lq_new)


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
