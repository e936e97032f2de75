"""Concentration parameter of the DP (paper Eq. 2: alpha ~ Gamma(1, 1)).

Resampled by the auxiliary-variable step of Escobar & West (1995). All randomness comes from an
explicit ``torch.Generator`` so that a chain is reproducible and resumable on any device.
"""

from __future__ import annotations

import torch

ALPHA_PRIOR_SHAPE = 1.0
ALPHA_PRIOR_RATE = 1.0


def sample_gamma(
    shape: torch.Tensor,
    generator: torch.Generator,
    proposals: int = 8,
) -> torch.Tensor:
    """Gamma(shape, 1) draws, elementwise, by Marsaglia & Tsang (2000) with a given generator.

    ``shape`` > 0 of any size. Shapes below 1 use the boost ``G(a) = G(a + 1) U^(1/a)``. Each
    element draws ``proposals`` candidates at once and repeats only while none was accepted
    (probability < 1e-9 per element for ``proposals = 8``).
    """
    a = shape.reshape(-1)
    boost = a < 1
    a1 = torch.where(boost, a + 1, a)
    dd = a1 - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * dd)
    out = torch.empty_like(a1)
    todo = torch.ones_like(a1, dtype=torch.bool)
    while bool(todo.any()):
        z = torch.randn(
            (a1.numel(), proposals), generator=generator, dtype=a1.dtype, device=a1.device
        )
        u = torch.rand(
            (a1.numel(), proposals), generator=generator, dtype=a1.dtype, device=a1.device
        )
        v = (1 + c.unsqueeze(1) * z) ** 3
        safe_v = torch.clamp(v, min=torch.finfo(a1.dtype).tiny)
        ok = (v > 0) & (torch.log(u) < 0.5 * z**2 + dd.unsqueeze(1) * (1 - v + torch.log(safe_v)))
        first = torch.argmax(ok.to(torch.int8), dim=1)
        any_ok = ok.any(dim=1)
        draw = dd * safe_v.gather(1, first.unsqueeze(1)).squeeze(1)
        take = todo & any_ok
        out = torch.where(take, draw, out)
        todo = todo & ~any_ok
    u_boost = torch.rand(a1.shape, generator=generator, dtype=a1.dtype, device=a1.device)
    out = torch.where(boost, out * u_boost ** (1 / a), out)
    return out.reshape(shape.shape)


def sample_beta(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Beta(a, b) draws as ``G_a / (G_a + G_b)``."""
    ga = sample_gamma(a, generator)
    gb = sample_gamma(b, generator)
    return ga / (ga + gb)


def resample_alpha(
    alpha: torch.Tensor, num_components: torch.Tensor, n: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Escobar & West (1995), Sec. 6: one Gibbs update of alpha per group (Gamma(1, 1) prior).

    eta ~ Beta(alpha + 1, n); alpha ~ pi Gamma(a + k, b - log eta) + (1 - pi) Gamma(a + k - 1, ...)
    with pi / (1 - pi) = (a + k - 1) / (n (b - log eta)).
    """
    k = num_components.to(alpha.dtype)
    n_f = n.to(alpha.dtype)
    eta = sample_beta(alpha + 1, n_f, generator)
    rate = ALPHA_PRIOR_RATE - torch.log(eta)
    odds = (ALPHA_PRIOR_SHAPE + k - 1) / (n_f * rate)
    pick_first = torch.rand(
        alpha.shape, generator=generator, dtype=alpha.dtype, device=alpha.device
    ) < odds / (1 + odds)
    shape = torch.where(pick_first, ALPHA_PRIOR_SHAPE + k, ALPHA_PRIOR_SHAPE + k - 1)
    return sample_gamma(shape, generator) / rate
