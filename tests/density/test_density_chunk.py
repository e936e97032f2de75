"""The chunked precision products equal the exact products of the current assignments.

At every block step of several sweeps, ``ChunkCache`` must give ``x^T P_k x`` for every occupied
slot and ``P_k x`` for each block point's own slot, where ``P_k`` is the precision that the
assignments *at that step* imply (recomputed here from scratch), although the stored precisions
take their changes only at the end of each chunk.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modes.components.density import chunk, sampler
from modes.components.density.niw import KAPPA0


def _exact_precisions(data: sampler.SamplerData, z: torch.Tensor, capacity: int) -> torch.Tensor:
    """(R, K, d, d) precision of every slot from the points assigned to it (prior if empty)."""
    y, valid = data.y, data.valid
    rows, _, d = y.shape
    out = torch.empty(rows, capacity, d, d, dtype=y.dtype)
    for r in range(rows):
        for k in range(capacity):
            pts = y[r][valid[r] & (z[r] == k)]
            scale = 1.0 if data.kappa_scale is None else float(data.kappa_scale[r])
            kappa = KAPPA0 * scale + pts.shape[0]
            mean = pts.sum(0) / kappa
            psi = data.psi0 * torch.eye(d, dtype=y.dtype) + pts.T @ pts
            psi -= kappa * torch.outer(mean, mean)
            out[r, k] = torch.linalg.inv(psi)
    return out


@pytest.mark.parametrize(("metropolis", "kappa_scale"), [
    (True, None), (False, None), (True, (0.05, 1.0, 30.0))])
def test_chunk_products_match_exact_precisions(monkeypatch, metropolis, kappa_scale):
    """Also with a per-row kappa0 (the ``"within"`` whitening's)."""
    rng = np.random.default_rng(3)
    rows, n, d = 3, 30, 3
    y = torch.as_tensor(rng.normal(size=(rows, n, d)) * rng.uniform(0.5, 2, size=(rows, n, 1)))
    data = sampler.SamplerData(
        y=y,
        valid=torch.ones(rows, n, dtype=torch.bool),
        n=torch.full((rows,), n),
        init_components=6,
        kappa_scale=None if kappa_scale is None else torch.tensor(kappa_scale, dtype=y.dtype),
    )
    generator = torch.Generator().manual_seed(0)
    state = sampler.init_state(data, generator)
    real_step = sampler._block_step
    checked = {"steps": 0, "slots": 0}

    def checking_step(state, data, cache, step, xb, zb, w, generator, correct):
        cap = state.capacity
        exact = _exact_precisions(data, state.z, cap)
        quad, vx = cache.step_inputs(step, xb, cap)
        occupied = state.counts > 0
        for r in range(rows):
            for j in range(xb.shape[1]):
                px = exact[r] @ xb[r, j]  # (K, d)
                want = px @ xb[r, j]
                ks = torch.nonzero(occupied[r]).squeeze(1)
                torch.testing.assert_close(quad[r, j, ks], want[ks], rtol=1e-9, atol=1e-9)
                checked["slots"] += ks.numel()
        own = cache.vectors(step, xb, zb, vx)
        want = torch.einsum("rjab,rjb->rja", exact[torch.arange(rows)[:, None], zb], xb)
        torch.testing.assert_close(own, want, rtol=1e-9, atol=1e-9)
        checked["steps"] += 1
        return real_step(state, data, cache, step, xb, zb, w, generator, correct)

    monkeypatch.setattr(sampler, "_block_step", checking_step)
    real_products, real_record = chunk.products, chunk.ChunkCache.record

    def counting_products(*args):
        out = real_products(*args)
        checked["extra"] = checked.get("extra", 0) + out.extra.shape[0]
        return out

    def counting_record(self, slots, coef, vec, restart):
        checked["restarts"] = checked.get("restarts", 0) + int(restart.sum())
        return real_record(self, slots, coef, vec, restart)

    monkeypatch.setattr(chunk, "products", counting_products)
    monkeypatch.setattr(chunk.ChunkCache, "record", counting_record)
    components = set()
    for _ in range(4):
        state = sampler.sweep(state, data, 4, generator, metropolis=metropolis)
        components.add(tuple((state.counts > 0).sum(1).tolist()))
    assert checked["steps"] == 4 * 8  # 30 points in blocks of 4: 8 steps per sweep
    assert checked["slots"] > 0
    assert len(components) > 1  # components were opened and closed along the way
    assert checked["restarts"] > 0  # slots restarted from the prior inside a chunk
    assert checked["extra"] > 0  # rows past the shared GEMM's split took the second product
    # and the precisions after the chunk's flush are the exact ones
    exact = _exact_precisions(data, state.z, state.capacity)
    occupied = state.counts > 0
    torch.testing.assert_close(state.precision[occupied], exact[occupied], rtol=1e-8, atol=1e-9)
