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

Block positions are grouped in chunks of ``CHUNK_STEPS``: one GEMM gives every slot's precision
times the points of the whole chunk, later steps correct it by the chunk's logged rank-one changes,
and the precisions themselves take those changes once at the end of the chunk (:mod:`.chunk`);
the statistics (means, ``Psi^-1 mu``, log-determinants, counts) are updated at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import torch

from .alpha import resample_alpha
from .chunk import ChunkCache, Workspace
from .niw import AUTHORS, NIWPrior, niw_log_marginal, niw_log_predictive

GROW_BY = 4
CHUNK_STEPS = 8  # block steps per precision GEMM (see .chunk)


@dataclass
class SamplerData:
    """Static inputs: whitened padded points ``y`` (R, N, d), ``valid`` (R, N), sizes ``n`` (R,)."""

    y: torch.Tensor
    valid: torch.Tensor
    n: torch.Tensor
    init_components: int
    niw: NIWPrior = AUTHORS
    kappa_scale: torch.Tensor | None = None  # (R,) per-row kappa0 multiplier, None: all 1
    workspace: Workspace = field(default_factory=Workspace, repr=False, compare=False)

    @property
    def d(self) -> int:
        return int(self.y.shape[-1])

    @cached_property
    def kappa0(self) -> float | torch.Tensor:
        """The prior's kappa0, or (R, 1) per row when groups scale it (``"within"`` whitening)."""
        if self.kappa_scale is None:
            return self.niw.kappa0
        return (self.niw.kappa0 * self.kappa_scale).unsqueeze(1)

    @property
    def nu0(self) -> float:
        return self.niw.nu0(self.d)

    @property
    def psi0(self) -> float:
        """``Psi0 = psi0 * I`` in whitened coordinates."""
        return self.niw.psi0(self.d)

    @cached_property
    def prior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """An empty slot's precision and packed stats, built once (every block step reads them)."""
        with torch.inference_mode(False), torch.no_grad():
            return _prior_slot(self.y, self.psi0)


@dataclass
class ChainState:
    """Mutable state of all rows.

    ``precision`` (R, K, d, d) holds ``Psi_n^-1`` per slot; ``stats`` (R, K, 2d + 2) packs, per
    slot, the posterior mean, ``Psi_n^-1 mu_n``, ``log det Psi_n`` and the count, so that moving a
    point reads and writes two tensors. ``room`` (R, K', d, d), K' >= K, when set, is the
    allocation of which ``precision`` is the first K slots; its other slots hold the prior, so
    that growing the capacity copies nothing.
    """

    z: torch.Tensor  # (R, N) long
    precision: torch.Tensor  # (R, K, d, d)
    stats: torch.Tensor  # (R, K, 2d + 2)
    alpha: torch.Tensor  # (R,)
    room: torch.Tensor | None = field(default=None, repr=False, compare=False)

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

    def flat_precision(self) -> tuple[torch.Tensor, int]:
        """The precision storage as (R * K', d, d) and its slots per row K'."""
        base = self.precision if self.room is None else self.room
        d = self.d
        return base.view(-1, d, d), int(base.shape[1])

    def arrays(self) -> dict[str, torch.Tensor]:
        return {"z": self.z, "precision": self.precision, "stats": self.stats, "alpha": self.alpha}


def pack_stats(
    mean: torch.Tensor, pmean: torch.Tensor, logdet: torch.Tensor, counts: torch.Tensor
) -> torch.Tensor:
    return torch.cat([mean, pmean, logdet.unsqueeze(-1), counts.unsqueeze(-1)], -1)


def prior_slot(data: SamplerData) -> tuple[torch.Tensor, torch.Tensor]:
    """Precision (d, d) and packed stats (2d + 2,) of an empty slot (exactly the prior)."""
    return data.prior


def _prior_slot(y: torch.Tensor, psi0: float) -> tuple[torch.Tensor, torch.Tensor]:
    d = int(y.shape[-1])
    precision = torch.eye(d, dtype=y.dtype, device=y.device) / psi0
    stats = torch.zeros(2 * d + 2, dtype=y.dtype, device=y.device)
    stats[2 * d] = d * math.log(psi0)
    return precision, stats


@torch.inference_mode()
def init_state(
    data: SamplerData, generator: torch.Generator, z: torch.Tensor | None = None
) -> ChainState:
    """The chain's start: the assignments ``z`` (R, N) when given, else each point in one of
    ``init_components`` slots at random; alpha = 1."""
    rows, n_max, _ = data.y.shape
    if z is None:
        z = torch.randint(
            0, data.init_components, (rows, n_max), generator=generator, device=data.y.device
        )
    elif tuple(z.shape) != (rows, n_max):
        raise ValueError(
            f"initial assignments must have shape {(rows, n_max)}, got {tuple(z.shape)}"
        )
    alpha = torch.ones(rows, dtype=data.y.dtype, device=data.y.device)
    return refresh(data, z, alpha, headroom=1)


@torch.inference_mode()
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
    kappa = data.kappa0 + counts
    mean = torch.bmm(onehot.transpose(1, 2), y) / kappa.unsqueeze(-1)
    eye = torch.eye(d, dtype=y.dtype, device=y.device)
    # empty slots hold the prior exactly; only occupied ones are summed and factorised
    in_use = occupied.sum(1)  # slots below a row's count are its occupied ones
    used = torch.arange(capacity, device=y.device) < in_use.unsqueeze(1)  # (R, K)
    psi = y.new_empty(rows, capacity, d, d)
    for k in range(int(in_use.max().item())):
        have = torch.nonzero(in_use > k).squeeze(1)
        ys = y if have.numel() == rows else y[have]
        weighted = ys * onehot[have, :, k : k + 1]
        psi[have, k] = torch.bmm(weighted.transpose(1, 2), ys)
    row, slot = torch.nonzero(used, as_tuple=True)
    m = mean[row, slot]
    scatter = psi[row, slot] + data.psi0 * eye - kappa[row, slot, None, None] * torch.einsum(
        "na,nb->nab", m, m
    )
    chol = torch.linalg.cholesky(scatter)
    p0, _ = prior_slot(data)
    precision = p0.expand(rows, capacity, d, d).contiguous()
    precision[row, slot] = torch.cholesky_inverse(chol)
    logdet = y.new_full((rows, capacity), d * math.log(data.psi0))
    logdet[row, slot] = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    pmean = torch.matmul(precision, mean.unsqueeze(-1)).squeeze(-1)
    return ChainState(
        z=z, precision=precision, stats=pack_stats(mean, pmean, logdet, counts), alpha=alpha
    )


def rows_of(data: SamplerData, rows: torch.Tensor) -> SamplerData:
    """The sampler data of rows ``rows`` only."""
    return SamplerData(
        y=data.y[rows], valid=data.valid[rows], n=data.n[rows],
        init_components=data.init_components, niw=data.niw,
        kappa_scale=None if data.kappa_scale is None else data.kappa_scale[rows],
    )


@torch.inference_mode()
def refresh_rows(
    state: ChainState, data: SamplerData, z: torch.Tensor, rows: torch.Tensor
) -> ChainState:
    """``state`` with rows ``rows`` rebuilt exactly from their assignments in ``z`` (R, N)
    (:func:`refresh` of those rows, slots compacted); the other rows are kept as they are.

    Updates ``state`` in place where the capacity allows; returns the state to use.
    """
    sub = rows_of(data, rows)
    part = refresh(sub, z[rows], state.alpha[rows], headroom=1)
    if part.capacity > state.capacity:
        state = grow(state, data, part.capacity - state.capacity)
    elif part.capacity < state.capacity:
        part = grow(part, sub, state.capacity - part.capacity)
    state.z[rows] = part.z
    state.stats[rows] = part.stats
    state.precision[rows] = part.precision
    return state


def _with_room(precision: torch.Tensor, data: SamplerData, slots: int) -> torch.Tensor:
    """A (R, ``slots``, d, d) allocation starting with ``precision``, prior slots after it."""
    rows, k, d, _ = precision.shape
    room = precision.new_empty(rows, slots, d, d)
    room[:, :k] = precision
    room[:, k:] = prior_slot(data)[0]
    return room


def grow(state: ChainState, data: SamplerData, extra: int = GROW_BY) -> ChainState:
    """Append ``extra`` empty (prior) slots to every row."""
    rows = state.stats.shape[0]
    s0 = prior_slot(data)[1]
    capacity = state.capacity + extra
    if state.room is not None and state.room.shape[1] >= capacity:
        room = state.room
    else:
        room = _with_room(state.precision, data, capacity + 2 * GROW_BY)
    return ChainState(
        z=state.z,
        precision=room[:, :capacity],
        stats=torch.cat([state.stats, s0.expand(rows, extra, -1)], 1),
        alpha=state.alpha,
        room=room,
    )


def _log_crp_factor(count: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    return torch.log(torch.where(count > 0, count, alpha))


@dataclass
class _Moves:
    """The rank-one moves ("events") of one block step, in order: removals, then additions.

    Event ``e`` moves point ``x_e`` with weight ``w_e`` (-1 remove, +1 add, 0 skip) in segment
    ``seg[:, e]``: its slot, or slot + capacity for a slot that the removals emptied (that slot
    restarts from the exact prior). ``delta[:, e]`` is the change of the segment's packed stats
    (mean, ``Psi^-1 mu``, log det, count) and ``-coef_e vec_e vec_e^T`` the change of its
    precision, so that the precision after the event is the precision at the start of the block
    step minus the segment's earlier ``coef vec vec^T``: no (d, d) matrix is formed until the
    chunk's changes are flushed. ``ones`` is a constant column reused by every event.
    """

    seg: torch.Tensor  # (R, 2b) long
    delta: torch.Tensor  # (R, 2b, 2d + 2)
    vec: torch.Tensor  # (R, 2b, d)
    coef: torch.Tensor  # (R, 2b)
    ones: torch.Tensor  # (R, 1)
    kappa0: float | torch.Tensor

    @classmethod
    def empty(cls, like: torch.Tensor, slots: torch.Tensor,
              kappa0: float | torch.Tensor) -> _Moves:
        rows, b, d = like.shape
        return cls(
            seg=slots.new_empty(rows, 2 * b),
            delta=like.new_zeros(rows, 2 * b, 2 * d + 2),
            vec=like.new_zeros(rows, 2 * b, d),
            coef=like.new_zeros(rows, 2 * b),
            ones=like.new_ones(rows, 1),
            kappa0=kappa0,
        )

    def run(
        self,
        first: int,
        x: torch.Tensor,
        weight: torch.Tensor,
        base: torch.Tensor,
        base_px: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Events ``first .. first + b - 1`` (point j of the block is event ``first + j``).

        ``base`` (R, b, 2d + 2) are the packed stats of each event's segment at the start of the
        block step and ``base_px`` (R, b, d) its precision times the point, ``P x``. The events
        before ``first`` enter by one batched correction; within the phase each event passes its
        change on to the later events of its segment. Sherman-Morrison on ``Psi' = Psi + s u u^T``
        (``u = x - mu``, ``s = w kappa / (kappa + w)``), with ``P u = P x - P mu`` and ``P`` the
        segment's current precision. Returns, per event, ``u^T P u`` and the packed stats before
        the event.
        """
        b, d = x.shape[1:]
        seg = self.seg[:, first : first + b]
        cur, px = base.clone(), base_px.clone()
        if first:  # earlier phases: one batched correction
            earlier = (seg.unsqueeze(2) == self.seg[:, :first].unsqueeze(1)).to(x.dtype)
            for f in range(first):  # a loop of small ops beats a tiny batched GEMM here
                cur.addcmul_(earlier[:, :, f : f + 1], self.delta[:, f].unsqueeze(1))
            vx = torch.bmm(x, self.vec[:, :first].transpose(1, 2))  # (R, b, first)
            px -= torch.bmm(earlier * self.coef[:, None, :first] * vx, self.vec[:, :first])
        same = seg.unsqueeze(2) == seg.unsqueeze(1)  # (R, later j', event j)
        later = (same & torch.ones_like(same[0]).tril(-1)).to(x.dtype)
        # counts before each event: the base count plus the earlier same-segment weights
        cnt = cur[..., -1] + (later * weight.unsqueeze(1)).sum(-1)
        kappa = self.kappa0 + cnt
        step = weight / (kappa + weight)
        s = step * kappa  # Sherman-Morrison scale: Psi' = Psi + s u u^T
        self.delta[:, first : first + b, -1] = weight
        quads = x.new_empty(x.shape[0], b)
        for j in range(b):
            e = first + j
            state = cur[:, j]
            mean, pmean = state[:, :d], state[:, d : 2 * d]
            delta = self.delta[:, e]
            pu = torch.sub(px[:, j], pmean, out=self.vec[:, e])
            u = x[:, j] - mean
            quad = torch.linalg.vecdot(u, pu).unsqueeze(1)
            quads[:, j : j + 1] = quad
            denom = torch.addcmul(self.ones, s[:, j : j + 1], quad)
            coef = torch.div(s[:, j : j + 1], denom, out=self.coef[:, e : e + 1])
            d_mean = torch.mul(u, step[:, j : j + 1], out=delta[:, :d])
            # P' mu' = P mu + step P u - c P u (P u . mu')
            proj = step[:, j : j + 1] - coef * torch.linalg.vecdot(pu, mean + d_mean).unsqueeze(1)
            torch.mul(pu, proj, out=delta[:, d : 2 * d])
            torch.log(denom, out=delta[:, 2 * d : 2 * d + 1])
            if j + 1 < b:  # later events of the same segment see this one
                mask = later[:, j + 1 :, j : j + 1]  # (R, b - j - 1, 1)
                cur[:, j + 1 :].addcmul_(mask, delta.unsqueeze(1))
                vxj = torch.linalg.vecdot(x[:, j + 1 :], pu.unsqueeze(1)).unsqueeze(-1)
                px[:, j + 1 :].addcmul_(mask * coef.unsqueeze(1) * vxj, pu.unsqueeze(1), value=-1)
        return quads, cur  # cur[:, j] is final once event j has run


def _block_step(
    state: ChainState,
    data: SamplerData,
    cache: ChunkCache,
    step: int,
    xb: torch.Tensor,
    zb: torch.Tensor,
    w: torch.Tensor,
    generator: torch.Generator,
    correct: bool,
) -> torch.Tensor:
    """One block of every row: remove, draw (Eq. A.6), add, optional MH accept; updates ``state``.

    ``xb`` (R, b, d) the block's points, ``zb`` (R, b) their slots, ``w`` (R, b) 1 for a real
    point and 0 for padding; ``cache`` gives ``x^T P_k x`` and ``P_k x`` under the precisions at
    the start of the step (step ``step`` of its chunk). The removals and additions are low-rank
    corrections of those (:class:`_Moves`), and only the slots whose membership changes are written
    back: their stats by one scatter-add and their precisions by one ``index_add_`` of rank-one
    terms, which the cache logs for the chunk's later steps.
    Returns the block's slots after the step (the old ones where the move was rejected).
    """
    rows, b, d = xb.shape
    cap = state.capacity
    width = 2 * d + 2
    inv_psi0 = 1.0 / data.psi0
    p0, prior = prior_slot(data)
    quad_all, vx_log = cache.step_inputs(step, xb, cap)  # (R, b, K) x^T P_k x

    def take_px(slots: torch.Tensor) -> torch.Tensor:  # (R, b, d): P_{slot_j} x_j
        return cache.vectors(step, xb, slots, vx_log)

    def take_stats(slots: torch.Tensor) -> torch.Tensor:
        return state.stats.gather(1, slots.unsqueeze(-1).expand(-1, -1, width))

    moves = _Moves.empty(xb, zb, data.kappa0)
    moves.seg[:, :b] = zb
    quad_rm, before_rm = moves.run(0, xb, -w, take_stats(zb), take_px(zb))
    removed = _without_block(state, moves.delta[:, :b], before_rm, zb, data)

    # Eq. A.6 given the other points: (x - mu')^T P' (x - mu') for every slot with the block
    # removed, P' = P - sum_e c_e v_e v_e^T over the slot's removals; x^T P x from the cache
    empty, counts = removed.empty, removed.counts
    maha = quad_all - 2 * removed.pmean_x(xb) + removed.mean_pmean.unsqueeze(1)  # (R, b, K)
    vx = torch.bmm(moves.vec[:, :b], xb.transpose(1, 2))  # (R, event, point)
    low_rank = moves.coef[:, :b].unsqueeze(-1) * vx.square()
    maha = maha.scatter_add(2, zb.unsqueeze(1).expand(-1, b, -1), -low_rank.transpose(1, 2))
    sqnorm = xb.square().sum(-1)
    maha = torch.where(empty.unsqueeze(1), (sqnorm * inv_psi0).unsqueeze(-1), maha)
    logdet = removed.logdet
    loglik = niw_log_predictive(
        maha.clamp_min(0),
        logdet.unsqueeze(1),
        (data.kappa0 + counts).unsqueeze(1),
        (data.nu0 + counts).unsqueeze(1),
        d,
    )
    first_empty = empty & (torch.cumsum(empty.to(torch.int32), 1) == 1)
    log_w = torch.where(
        empty,
        torch.where(first_empty, torch.log(state.alpha).unsqueeze(1), -math.inf),
        torch.log(counts),
    )
    logits = loglik + log_w.unsqueeze(1)  # (R, b, K)
    uni = torch.rand((rows, cap, b), generator=generator, dtype=xb.dtype, device=xb.device)
    uni = uni.transpose(1, 2)
    gumbel = -torch.log(-torch.log(uni.clamp_min(torch.finfo(xb.dtype).tiny)))
    znew = torch.where(w > 0, torch.argmax(logits + gumbel, dim=2), zb)

    # add the block back at its drawn slots (an emptied slot restarts from the prior)
    restart = empty.gather(1, znew)
    moves.seg[:, b:] = znew + cap * restart
    base = torch.where(restart.unsqueeze(-1), prior, take_stats(znew))
    base_px = torch.where(restart.unsqueeze(-1), xb * inv_psi0, take_px(znew))
    quad_add, before_add = moves.run(b, xb, w, base, base_px)

    accept = torch.ones(rows, dtype=torch.bool, device=xb.device)
    if correct:
        log_ratio = _proposal_log_ratio(counts, torch.log_softmax(logits, 2), zb, znew, w)
        factors = _log_factors(
            data,
            state.alpha,
            xb,
            w,
            torch.cat([quad_rm, quad_add], 1),
            before_rm,
            before_add,
            moves.delta[:, :b, 2 * d],
        )
        log_ratio = log_ratio + (torch.cat([-w, w], 1) * factors).sum(1)
        accept_u = torch.rand(rows, generator=generator, dtype=xb.dtype, device=xb.device)
        accept = torch.log(accept_u) < log_ratio
    cache.record(*_write_back(state, moves, zb, znew, w, accept, empty, p0, prior))
    return torch.where(accept.unsqueeze(1), znew, zb)


@dataclass
class _Removed:
    """Every slot's statistics with the block removed, without copying the (R, K, 2d + 2) stats.

    The removals change at most b slots per row: counts and log-determinants take their deltas by
    a scatter-add, ``mu'^T P' mu'`` is read off each removal segment's last event, and ``P' mu'``
    enters the distances only through ``(P' mu')^T x``, corrected the same way (:meth:`pmean_x`).
    Emptied slots read the prior's log-determinant (their distances are the prior's too).
    """

    stats: torch.Tensor  # (R, K, 2d + 2) at the start of the step
    delta: torch.Tensor  # (R, b, 2d + 2) of the removal events
    slots: torch.Tensor  # (R, b)
    counts: torch.Tensor  # (R, K)
    logdet: torch.Tensor  # (R, K)
    mean_pmean: torch.Tensor  # (R, K)

    @property
    def empty(self) -> torch.Tensor:
        return self.counts == 0

    def pmean_x(self, x: torch.Tensor) -> torch.Tensor:
        """``(P'_k mu'_k)^T x_j`` (R, b, K) for the block's points ``x`` (R, b, d)."""
        d = x.shape[-1]
        out = torch.bmm(x, self.stats[..., d : 2 * d].transpose(1, 2))
        change = torch.bmm(x, self.delta[..., d : 2 * d].transpose(1, 2))  # (R, point, event)
        index = self.slots.unsqueeze(1).expand(-1, x.shape[1], -1)
        return out.scatter_add_(2, index, change)


def _without_block(
    state: ChainState,
    delta: torch.Tensor,
    before: torch.Tensor,
    slots: torch.Tensor,
    data: SamplerData,
) -> _Removed:
    d = data.d
    stats = state.stats
    counts = stats[..., -1].scatter_add(1, slots, delta[..., -1])
    logdet = stats[..., 2 * d].scatter_add(1, slots, delta[..., 2 * d])
    logdet = torch.where(counts == 0, d * math.log(data.psi0), logdet)
    mean_pmean = (stats[..., :d] * stats[..., d : 2 * d]).sum(-1)
    after = before + delta  # each removal segment's stats after the event
    after_mp = (after[..., :d] * after[..., d : 2 * d]).sum(-1)  # (R, b)
    b = slots.shape[1]
    later = torch.ones(b, b, dtype=torch.bool, device=slots.device).triu(1)
    last = ~((slots.unsqueeze(2) == slots.unsqueeze(1)) & later).any(2)
    change = torch.where(last, after_mp - mean_pmean.gather(1, slots), 0)
    mean_pmean = mean_pmean.scatter_add(1, slots, change)
    return _Removed(stats, delta, slots, counts, logdet, mean_pmean)


def _log_factors(
    data: SamplerData,
    alpha: torch.Tensor,
    x: torch.Tensor,
    w: torch.Tensor,
    quad: torch.Tensor,
    before_rm: torch.Tensor,
    before_add: torch.Tensor,
    removal_log_denom: torch.Tensor,
) -> torch.Tensor:
    """Per event (R, 2b: removals, then additions), the factor of the block's exact joint
    conditional that its move settles.

    ``log n_k`` (``log alpha`` for a slot without other points) plus the log Student-t predictive
    of ``x`` given its slot without it. An addition reads the slot before the event; a removal
    (``removal_log_denom`` = ``log(1 + s quad)``) reads it after, by Sherman-Morrison:
    ``u^T Psi'^-1 u = (kappa / kappa')^2 quad / (1 + s quad)`` and
    ``log det Psi' = log det Psi + log(1 + s quad)``.
    """
    d = data.d
    b = x.shape[1]
    cnt = torch.cat([before_rm[..., -1] - w, before_add[..., -1]], 1)
    logdet = torch.cat([before_rm[..., 2 * d] + removal_log_denom, before_add[..., 2 * d]], 1)
    kappa = data.kappa0 + cnt
    # a removal's quad after the event; (kappa + w) / kappa is kappa_before / kappa_after
    shrink = ((kappa[:, :b] + w) / kappa[:, :b]) ** 2 / torch.exp(removal_log_denom)
    quad = torch.cat([quad[:, :b] * shrink, quad[:, b:]], 1)
    alone = cnt == 0
    alone[:, b:] = False
    quad = torch.where(alone, x.square().sum(-1).repeat(1, 2) / data.psi0, quad)
    logdet = torch.where(alone, d * math.log(data.psi0), logdet)
    log_pred = niw_log_predictive(quad, logdet, kappa, data.nu0 + cnt, d)
    return log_pred + _log_crp_factor(cnt, alpha.unsqueeze(1))


def _write_back(
    state: ChainState,
    moves: _Moves,
    zb: torch.Tensor,
    znew: torch.Tensor,
    w: torch.Tensor,
    accept: torch.Tensor,
    empty: torch.Tensor,
    p0: torch.Tensor,
    prior: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Apply an accepted block move to the slots whose membership it changes.

    A slot that keeps its points keeps its statistics bit for bit (its removals and additions
    cancel in exact arithmetic); a changed slot left without its old points restarts from the exact
    prior and takes only the additions. The precisions take their rank-one changes at the end of
    the chunk (:meth:`.chunk.ChunkCache.flush`); this returns what the cache logs for that: each
    event's slot, its applied coefficient (0 if not applied), its vector and the restarted slots.
    """
    rows, cap = empty.shape
    moved = ((zb != znew) & (w > 0)).to(torch.int32)
    touched = torch.zeros(rows, cap, dtype=torch.int32, device=zb.device)
    touched.scatter_add_(1, zb, moved).scatter_add_(1, znew, moved)
    changed = (touched > 0) & accept.unsqueeze(1)
    restart = changed & empty
    slot = torch.cat([zb, znew], 1)
    apply = changed.gather(1, slot) & (torch.cat([w, w], 1) > 0)
    apply[:, : zb.shape[1]] &= ~restart.gather(1, zb)
    if bool(restart.any()):
        state.stats[restart] = prior
        state.precision[restart] = p0
    coef = moves.coef * apply.to(moves.coef.dtype)
    row, event = torch.nonzero(apply, as_tuple=True)
    if row.numel():
        target = slot[row, event]
        width = state.stats.shape[-1]
        state.stats.view(-1, width).index_add_(0, row * cap + target, moves.delta[row, event])
    return slot, coef, moves.vec, restart


@torch.inference_mode()
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
    correct = metropolis and b > 1
    inv_psi0 = 1.0 / data.psi0
    for start in range(0, steps, CHUNK_STEPS):
        chunk = range(start, min(start + CHUNK_STEPS, steps))
        pos = torch.cat([t * row_b.unsqueeze(1) + col for t in chunk], 1)  # (R, T b)
        idx_all = perm.gather(1, pos.clamp_max(n_max - 1))
        flat = (idx_all + n_max * torch.arange(rows, device=y.device).unsqueeze(1)).flatten()
        x_all = y.view(-1, d).index_select(0, flat).view(rows, -1, d)
        cache = ChunkCache(
            x_all, state.precision, _last_occupied(state), inv_psi0, b, data.workspace
        )
        for i in range(len(chunk)):
            cols = slice(i * b, (i + 1) * b)
            w = ((col < row_b.unsqueeze(1)) & (pos[:, cols] < data.n.unsqueeze(1))).to(y.dtype)
            idx, xb = idx_all[:, cols], x_all[:, cols]
            zb = state.z.gather(1, idx)
            znew = _block_step(state, data, cache, i, xb, zb, w, generator, correct)
            # masked columns may repeat a position of the block: point them at column 0 and give
            # them column 0's value, so that the scatter is deterministic
            valid_col = w > 0
            state.z.scatter_(
                1,
                torch.where(valid_col, idx, idx[:, :1]),
                torch.where(valid_col, znew, znew[:, :1]),
            )
            if bool((state.counts > 0).all(1).any()):
                state = grow(state, data)
        cache.flush(*state.flat_precision())
    return state


def _last_occupied(state: ChainState) -> torch.Tensor:
    """Per row, one past its last occupied slot (R,); slots from there on hold the prior."""
    slot_no = torch.arange(1, state.capacity + 1, device=state.counts.device)
    return torch.where(state.counts > 0, slot_no, 0).amax(1)


def _proposal_log_ratio(
    counts: torch.Tensor, log_q: torch.Tensor, old: torch.Tensor, new: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """log q(old) - log q(new) for the independent block proposal, (R,).

    ``counts`` (R, K) are the slot counts and ``log_q`` (R, b, K) the per-point proposal
    log-probabilities with the block removed. An old slot emptied by the removal is proposed as
    the first empty slot; old block points spread over two or more emptied slots cannot be
    proposed (log q(old) = -inf: the move is rejected).
    """
    emptied_old = counts.gather(1, old) == 0
    empty = counts == 0
    first_empty = torch.argmax(empty.to(torch.int8), dim=1, keepdim=True)
    old_as_proposed = torch.where(emptied_old, first_empty, old)
    own = torch.where(emptied_old & (w > 0), old, -1)
    distinct = (
        (own.unsqueeze(1) != own.unsqueeze(2)) & (own.unsqueeze(1) >= 0) & (own.unsqueeze(2) >= 0)
    )
    unreachable = distinct.any(2).any(1)
    lq_old = (log_q.gather(2, old_as_proposed.unsqueeze(-1)).squeeze(-1) * w).sum(1)
    lq_new = (log_q.gather(2, new.unsqueeze(-1)).squeeze(-1) * w).sum(1)
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
    marg = niw_log_marginal(
        counts, state.logdet, d * math.log(data.psi0), data.nu0, d, data.kappa0
    )
    return log_crp + torch.where(occupied, marg, 0).sum(1)


@dataclass
class SweepRecord:
    """What one sweep leaves in the traces (per row)."""

    log_joint: torch.Tensor
    num_components: torch.Tensor
    alpha: torch.Tensor


@torch.inference_mode()
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
