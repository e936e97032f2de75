"""``P_k x`` for the points of several block steps from one GEMM plus low-rank corrections.

The blocked sampler needs, at each block step, ``x_j^T P_k x_j`` for every slot ``k`` and the
vectors ``P_k x_j`` for the slots the block's points leave and join, where ``P_k`` is slot k's
precision *at that step*. Reading every row's precisions (R x K x d x d) for only b points per step
makes the step memory-bound; instead a :class:`ChunkCache` multiplies the precisions at the start of
a chunk of T block steps by the points of all T blocks at once, and later steps of the chunk correct
that product by the rank-one changes ``P <- P - c v v^T`` that the chunk's earlier steps applied
(the same terms :func:`.sampler._write_back` adds to the precision), so the result is the current
precision's product exactly (up to rounding).

A slot that restarts from the prior during the chunk (see ``_write_back``) drops its logged changes
and reads the prior ``P_0 x = x / psi0``; so do slots past the GEMM's coverage (they hold the prior:
empty slots are exactly the prior, and slots added when the capacity grows are empty).
"""

from __future__ import annotations

import math

import attrs
import torch


class ChunkCache:
    """Precision-times-point products for the ``T * b`` points of one chunk of block steps.

    ``x`` (R, T b, d) are the chunk's points in step order, ``precision`` (R, K, d, d) the
    precisions at the chunk's start, ``last`` (R,) one past each row's last occupied slot (later
    slots hold the prior), ``inv_psi0`` the prior precision's diagonal, ``block`` the block size
    and ``space`` the reused buffers.
    """

    def __init__(
        self,
        x: torch.Tensor,
        precision: torch.Tensor,
        last: torch.Tensor,
        inv_psi0: float,
        block: int,
        space: Workspace,
    ):
        rows, points, d = x.shape
        self.inv_psi0 = inv_psi0
        self.points = points
        self.prod = products(x, precision, last, space)
        self.top = self.prod.top
        self.qx = self.prod.qx
        slot_no = torch.arange(self.top, device=x.device)
        # slots that read the prior: past the row's cover, or restarted in this chunk
        self.prior = slot_no >= self.prod.cover.unsqueeze(1)  # (R, top)
        point = torch.arange(points, device=x.device)
        row = torch.arange(rows, device=x.device).unsqueeze(1)
        self.main_index = (row * points + point) * self.prod.split  # (R, Tb) rows of ``main``
        pos = self.prod.many_pos.unsqueeze(1)  # the row's index in ``extra`` (-1: none)
        self.extra_row = pos >= 0
        width = max(self.top - self.prod.split, 1)
        self.extra_index = (pos.clamp_min(0) * points + point) * width
        events = (points // block) * 2 * block  # entries past ``used`` are never read
        self.vec = x.new_empty(rows, events, d)
        self.coef = x.new_empty(rows, events)
        self.slot = torch.empty(rows, events, dtype=torch.long, device=x.device)
        self.used = 0

    def _prior_mask(self, slots: torch.Tensor) -> torch.Tensor:
        """Whether each slot in ``slots`` (R, b) reads the prior instead of the chunk's GEMM."""
        inside = self.prior.gather(1, slots.clamp_max(self.top - 1))
        return inside | (slots >= self.top)

    def step_inputs(
        self, step: int, xb: torch.Tensor, capacity: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x_j^T P_k x_j`` (R, b, K) for all ``capacity`` slots and ``v_e . x_j`` (R, E, b).

        The second output is reused by :meth:`vectors` within the same step.
        """
        rows, b, _ = xb.shape
        base = xb.square().sum(-1, keepdim=True) * self.inv_psi0  # (R, b, 1) prior's quad
        quad = base.expand(rows, b, capacity).clone()
        top = min(self.top, capacity)
        prior = self.prior[:, :top].unsqueeze(1)
        quad[:, :, :top] = torch.where(prior, base, self.qx[:, step * b : (step + 1) * b, :top])
        vx = torch.bmm(self.vec[:, : self.used], xb.transpose(1, 2))  # (R, E, b)
        if self.used:
            drop = (self.coef[:, : self.used].unsqueeze(-1) * vx.square()).transpose(1, 2)
            index = self.slot[:, : self.used].unsqueeze(1).expand(-1, b, -1)
            quad.scatter_add_(2, index, -drop)
        return quad, vx

    def vectors(
        self, step: int, xb: torch.Tensor, slots: torch.Tensor, vx: torch.Tensor
    ) -> torch.Tensor:
        """``P_{slot_j} x_j`` (R, b, d) under the current precisions, ``slots`` (R, b)."""
        rows, b, d = xb.shape
        prod = self.prod
        cols = slice(step * b, (step + 1) * b)
        flat = self.main_index[:, cols] + slots.clamp_max(prod.split - 1)
        base = prod.main.view(-1, d).index_select(0, flat.view(-1)).view(rows, b, d)
        if prod.extra.shape[0]:
            extra_slot = (slots - prod.split).clamp(0, prod.top - prod.split - 1)
            flat = (self.extra_index[:, cols] + extra_slot).view(-1)
            other = prod.extra.view(-1, d).index_select(0, flat).view(rows, b, d)
            base = torch.where(((slots >= prod.split) & self.extra_row).unsqueeze(-1), other, base)
        base = torch.where(self._prior_mask(slots).unsqueeze(-1), xb * self.inv_psi0, base)
        if not self.used:
            return base
        same = self.slot[:, : self.used].unsqueeze(1) == slots.unsqueeze(-1)  # (R, b, E)
        weight = same * (self.coef[:, : self.used].unsqueeze(1) * vx.transpose(1, 2))
        return base - torch.bmm(weight, self.vec[:, : self.used])

    def record(
        self,
        slots: torch.Tensor,
        coef: torch.Tensor,
        vec: torch.Tensor,
        restart: torch.Tensor,
    ) -> None:
        """Log one step's applied rank-one changes (``coef`` 0 where not applied).

        ``restart`` (R, K) marks slots reset to the prior in this step, before its changes.
        """
        if bool(restart.any()):
            top = min(self.top, restart.shape[1])
            self.prior[:, :top] |= restart[:, :top]
            if self.used:
                gone = restart.gather(1, self.slot[:, : self.used])
                self.coef[:, : self.used].masked_fill_(gone, 0.0)
        n = slots.shape[1]
        sel = slice(self.used, self.used + n)
        self.slot[:, sel] = slots
        self.coef[:, sel] = coef
        self.vec[:, sel] = vec
        self.used += n

    def flush(self, flat: torch.Tensor, slots_per_row: int) -> None:
        """Apply the chunk's logged changes to the precisions ``flat`` (R * K', d, d).

        Each (row, slot) takes the sum of its events' ``-c v v^T`` as one rank-m product, so that
        every touched precision is read and written once per chunk rather than once per event.
        """
        if not self.used:
            return
        coef = self.coef[:, : self.used]
        row, event = torch.nonzero(coef != 0, as_tuple=True)
        if not row.numel():
            return
        target = row * slots_per_row + self.slot[row, event]
        pairs, pair = torch.unique(target, return_inverse=True)
        order = torch.argsort(pair, stable=True)
        pair = pair[order]
        row, event = row[order], event[order]
        sizes = torch.bincount(pair, minlength=pairs.numel())
        starts = torch.cumsum(sizes, 0) - sizes
        rank = torch.arange(pair.numel(), device=pair.device) - starts[pair]
        d = self.vec.shape[-1]
        vec = self.vec.new_zeros(pairs.numel(), int(sizes.max().item()), d)
        vec[pair, rank] = self.vec[row, event]
        scaled = torch.zeros_like(vec)
        scaled[pair, rank] = self.vec[row, event] * coef[row, event].unsqueeze(-1)
        flat.index_add_(0, pairs, torch.bmm(vec.transpose(1, 2), scaled), alpha=-1)


class Workspace:
    """Reused flat buffers, so that each chunk's large products do not fault in fresh pages."""

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def take(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """A contiguous (uninitialised) tensor of ``shape``, dtype and device of ``like``."""
        numel = math.prod(shape)
        buf = self._buffers.get(name)
        if (
            buf is None
            or buf.numel() < numel
            or buf.dtype != like.dtype
            or buf.device != like.device
        ):
            buf = like.new_empty(max(numel, 1))
            self._buffers[name] = buf
        return buf[:numel].view(shape)


@attrs.frozen
class Products:
    """``P_k x_j`` for slots below ``split`` of every row (``main``, (R, Tb, split, d)) and for
    slots ``split .. top - 1`` of the rows ``many`` (``extra``, (M, Tb, top - split, d)), with
    ``x_j^T P_k x_j`` for both as ``qx`` (R, Tb, top); entries past a row's cover are never read.
    """

    main: torch.Tensor
    extra: torch.Tensor
    qx: torch.Tensor
    cover: torch.Tensor  # (R,) slots covered per row
    many_pos: torch.Tensor  # (R,) row's index in ``extra`` or -1

    @property
    def split(self) -> int:
        return int(self.main.shape[2])

    @property
    def top(self) -> int:
        return int(self.qx.shape[2])


def products(
    x: torch.Tensor, precision: torch.Tensor, last: torch.Tensor, space: Workspace
) -> Products:
    """The chunk's GEMMs: the first ``split`` slots of every row, and the slots up to ``top`` of
    the few rows whose last occupied slot lies past ``split``; ``split`` minimises the work, so
    that a few rows with many components do not make every row pay for their capacity.
    """
    rows, points, d = x.shape
    per_last = torch.bincount(last, minlength=1).tolist()
    top = max(1, len(per_last) - 1)
    beyond = [rows - sum(per_last[: k + 1]) for k in range(top + 1)]
    # a gathered slot costs about a copy and a read: twice a slot read in place
    split = min(range(1, top + 1), key=lambda k: rows * k + 2 * beyond[k] * (top - k))
    part = precision[:, :split].reshape(rows, split * d, d)
    main = space.take("main", (rows, points, split * d), x)
    torch.bmm(x, part.transpose(1, 2), out=main)
    main = main.view(rows, points, split, d)
    qx = torch.bmm(main.view(-1, split, d), x.reshape(-1, d, 1)).view(rows, points, split)
    if top > split:
        qx = torch.cat([qx, qx.new_zeros(rows, points, top - split)], 2)
    cover = torch.full((rows,), split, dtype=torch.long, device=x.device)
    many_pos = torch.full((rows,), -1, dtype=torch.long, device=x.device)
    many = torch.nonzero(last > split).squeeze(1)
    extra = x.new_empty(0, points, max(top - split, 0), d)
    if many.numel():
        m = many.numel()
        part = precision[many, split:top].reshape(m, (top - split) * d, d)
        xm = x[many]
        extra = torch.bmm(xm, part.transpose(1, 2)).view(m, points, top - split, d)
        qx[many, :, split:] = torch.bmm(extra.view(-1, top - split, d), xm.reshape(-1, d, 1)).view(
            m, points, top - split
        )
        cover[many] = top
        many_pos[many] = torch.arange(m, device=x.device)
    return Products(main=main, extra=extra, qx=qx, cover=cover, many_pos=many_pos)
