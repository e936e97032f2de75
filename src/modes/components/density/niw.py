"""Normal-Inverse-Wishart algebra of the collapsed DP-GMM (paper Eq. 2, Appendix Eq. A.5).

The sampler works in *whitened group coordinates*: each group's data are centred on the group mean
and divided by the group's standard deviations (1/N). The data-derived prior of Jamroz, Kurdziel
and Opala (2020) is then ``mu0 = 0`` and ``Psi0 = I / K0^(2/d)``; the model is equivariant under
this diagonal affine map, so densities in data coordinates are the whitened ones minus
``sum(log std)``.

A component with ``n`` points is summarised by ``kappa_n = kappa0 + n``, ``nu_n = nu0 + n``, its
posterior mean ``mu_n`` and its posterior scale matrix ``Psi_n``, kept as a precision
``P = Psi_n^-1`` with ``log det Psi_n`` so that adding or removing one point is a rank-one
(Sherman-Morrison / matrix-determinant-lemma) update.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import torch

KAPPA0 = 0.01  # the authors' kappa0 (Jamroz, Kurdziel & Opala 2020)


def prior_nu0(d: int) -> float:
    """Degrees of freedom of the authors' NIW prior, ``nu0 = d + 2`` (Jamroz et al. 2020)."""
    return float(d + 2)


def prior_scale(d: int, init_components: int) -> float:
    """Diagonal of the authors' ``Psi0`` in whitened coordinates: ``1 / K0^(2/d)``."""
    return float(float(init_components) ** (-2.0 / d))


WHITENINGS = ("diagonal", "full", "within")
"""How ``Psi0`` follows the group's covariance: its variances only (``"diagonal"``, the authors')
or its full covariance, correlations included (``"full"``, Fraley & Raftery 2007's data-derived
prior), or the within-cluster covariance of the tied-covariance Gaussian mixture of 1 to
``max_clusters`` clusters that BIC prefers (``"within"``); implemented by whitening each group with
that matrix (:func:`.model.prepare`)."""


def _positive_float(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class NIWPrior:
    """The NIW base measure ``theta0`` of Eq. 2 in whitened group coordinates.

    ``mu0 = 0``, ``kappa0``, ``nu0 = dof_per_dim * d + dof_offset`` and ``Psi0 = psi0 I`` with
    ``psi0 = (nu0 - d - 1) / K^(2/d)``. The prior mean covariance
    ``E[Sigma] = Psi0 / (nu0 - d - 1) = I / K^(2/d)`` (the group's own covariance shrunk as if
    split into ``K = scale_components`` equal parts) is the same for every ``nu0``: priors of
    different strength differ only in how firmly they hold a component's covariance near it.
    ``AUTHORS`` is Jamroz et al. (2020)'s weak prior (``nu0 = d + 2``, ``kappa0 = 0.01``,
    ``K = 6``): a component of ``m < d`` points has posterior mean covariance
    ``(Psi0 + S) / (m + 1)``, collapsed by ``1 / (m + 1)`` off its points' span, which lets
    near-isotropic classes fall into many tiny components (:mod:`modes.experiments.null_artifact`).
    ``whiten`` says which of the group's covariance ``Psi0`` follows (:data:`WHITENINGS`).
    """

    name: str
    kappa0: float = attrs.field(validator=_positive_float)
    dof_per_dim: float = attrs.field(validator=_positive_float)
    dof_offset: float
    scale_components: int = 6
    whiten: str = attrs.field(default="diagonal", validator=attrs.validators.in_(WHITENINGS))
    max_clusters: int = attrs.field(default=6, validator=attrs.validators.ge(1))

    def nu0(self, d: int) -> float:
        nu0 = self.dof_per_dim * d + self.dof_offset
        if nu0 <= d + 1:
            raise ValueError(f"prior {self.name!r}: nu0 = {nu0} must exceed d + 1 = {d + 1}")
        return float(nu0)

    def psi0(self, d: int) -> float:
        return (self.nu0(d) - d - 1) * prior_scale(d, self.scale_components)


AUTHORS = NIWPrior("authors", kappa0=KAPPA0, dof_per_dim=1.0, dof_offset=2.0)
FIRM = NIWPrior("firm", kappa0=1.0, dof_per_dim=4.0, dof_offset=0.0, scale_components=1,
                whiten="within")
"""The checked measurement's prior: ``nu0 = 4d``, ``kappa0 = 1``, prior mean covariance the
class's within-cluster covariance (``"within"`` whitening: the tied covariance of the Gaussian
mixture BIC prefers; for a class BIC reads as one Gaussian, its full covariance). No component of
fewer than d points can collapse (the prior keeps over 3/4 of the covariance off its points'
span), and ``kappa0 = 1`` lets components be born and die, so chains from dispersed starts mix.

Chosen by the measurements of ``benchmarks/check_gaussian_class.py`` (n = 500, d = 64, Gaussian
class, four dispersed chains pooled, held-out minus truth / Eq. 4 minus truth): nu0 = 2d, K = 6:
-3.2 to -3.4 / 3.9-4.1 (40-62 components); nu0 = 2d, K = 1: -3.3 / 3.9; nu0 = 3d, K = 1: -2.94,
-2.96 / 2.7; nu0 = 4d, K = 1: -2.62 to -2.94 / 1.5-2.5 (5-10 components); kappa0 = 0.1 or 0.3:
chains stay at their start (6 or 1 components), -3.4 to -3.55. The authors' prior: -2.5 in its
one-component state, -16 to -19 in the collapsed many-component state its posterior prefers.

Why within-cluster and not the whole class's covariance (``"full"``): with ``nu0 = 4d`` the prior
dominates a component of fewer than about 4d points, so a prior mean covariance as broad as the
whole class (between-cluster spread included) gives the compact components of a clustered class
that broad a covariance: planted classes of 3-5 compact blobs (n 300-500, d 16) came out barely
denser than Gaussians with their covariance, and chains disagreed (``benchmarks/check_worlds.py``),
while many broad components tiled strongly clustered classes at great cost (83 s/sweep at 100 x 500
x 64). With the covariance prior that tight, the means' prior ``N(0, Sigma / kappa0)`` would be
too: new components could not be born at cluster centres far from the class mean. So under
``"within"`` whitening kappa0 is scaled per class by d / tr(W^-1 S) (W the within-cluster, S the
class covariance), which makes the means' prior as wide as the class (:func:`.model.prepare`).
BIC picks one cluster for every Gaussian class measured (100 of 100, n 67-500, d 16-64), so
there this prior is exactly the ``"full"`` one the measurements above calibrated; a k-means
within-cluster covariance at fixed k = 6 instead made a Gaussian class -3.05 / -3.55 nats/pt."""
PRIORS: dict[str, NIWPrior] = {p.name: p for p in (AUTHORS, FIRM)}


def get_prior(prior: str | NIWPrior) -> NIWPrior:
    """A prior by name (``PRIORS``) or as given; unknown names list the known ones."""
    if isinstance(prior, NIWPrior):
        return prior
    try:
        return PRIORS[prior]
    except KeyError:
        raise ValueError(f"unknown NIW prior {prior!r}; known priors: {sorted(PRIORS)}") from None


def student_t_log_prob(
    x: torch.Tensor, loc: torch.Tensor, scale_tril: torch.Tensor, df: torch.Tensor | float
) -> torch.Tensor:
    """Log-density of a multivariate Student-t with ``df`` degrees of freedom.

    ``x`` (..., d), ``loc`` (..., d), ``scale_tril`` (..., d, d) lower Cholesky of the shape
    matrix, ``df`` broadcastable to the batch shape. Equals ``scipy.stats.multivariate_t.logpdf``.
    """
    d = x.shape[-1]
    diff = (x - loc).unsqueeze(-1)
    sol = torch.linalg.solve_triangular(scale_tril, diff, upper=False).squeeze(-1)
    maha = sol.square().sum(-1)
    half_logdet = torch.log(torch.diagonal(scale_tril, dim1=-2, dim2=-1)).sum(-1)
    df_t = torch.as_tensor(df, dtype=x.dtype, device=x.device)
    return _student_t_from_maha(maha, 2.0 * half_logdet, df_t, d)


def _student_t_from_maha(
    maha: torch.Tensor, logdet_shape: torch.Tensor, df: torch.Tensor, d: int
) -> torch.Tensor:
    return (
        torch.lgamma((df + d) / 2)
        - torch.lgamma(df / 2)
        - 0.5 * d * torch.log(df * math.pi)
        - 0.5 * logdet_shape
        - 0.5 * (df + d) * torch.log1p(maha / df)
    )


def niw_log_predictive(
    maha_psi: torch.Tensor, logdet_psi: torch.Tensor, kappa: torch.Tensor, nu: torch.Tensor, d: int
) -> torch.Tensor:
    """Eq. A.5 likelihood term: log Student-t predictive of a NIW component (Murphy 2007, Eq. 232).

    df = nu - d + 1, location mu_n, shape Psi_n (kappa + 1) / (kappa df). ``maha_psi`` is
    ``(x - mu_n)^T Psi_n^-1 (x - mu_n)``; all arguments broadcast.
    """
    df = nu - d + 1
    ratio = (kappa + 1) / (kappa * df)
    return _student_t_from_maha(maha_psi / ratio, logdet_psi + d * torch.log(ratio), df, d)


def niw_log_marginal(
    counts: torch.Tensor,
    logdet_psi: torch.Tensor,
    logdet_psi0: float,
    nu0: float,
    d: int,
    kappa0: float | torch.Tensor = KAPPA0,
) -> torch.Tensor:
    """Log marginal likelihood ``log p(X_k)`` of the points of each component under the NIW prior.

    ``counts`` and ``logdet_psi`` (...,); an empty component contributes 0 (Murphy 2007, Eq. 234).
    """
    kappa = kappa0 + counts
    nu = nu0 + counts
    return (
        -0.5 * counts * d * math.log(math.pi)
        + torch.mvlgamma(nu / 2, d)
        - _log_multigamma(nu0 / 2, d)
        + 0.5 * nu0 * logdet_psi0
        - 0.5 * nu * logdet_psi
        + 0.5 * d * (torch.log(torch.as_tensor(kappa0, dtype=kappa.dtype)) - torch.log(kappa))
    )


def _log_multigamma(a: float, d: int) -> float:
    return d * (d - 1) / 4 * math.log(math.pi) + math.fsum(
        math.lgamma(a + (1 - j) / 2) for j in range(1, d + 1)
    )


def rank_one_update(
    precision: torch.Tensor,
    logdet: torch.Tensor,
    mean: torch.Tensor,
    kappa: torch.Tensor,
    x: torch.Tensor,
    weight: torch.Tensor,
    pmean: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Add (``weight`` = 1), remove (``weight`` = -1) or keep (0) one point of a component.

    Batched over the leading dim: ``precision`` (B, d, d), ``logdet`` (B,), ``mean`` (B, d),
    ``kappa`` (B,) before the change, ``x`` (B, d). Uses
    ``Psi' = Psi + s u u^T`` with ``u = x - mu_n`` and ``s = w kappa / (kappa + w)``, then
    Sherman-Morrison for ``Psi'^-1`` and the matrix determinant lemma for ``log det Psi'``.
    Returns the new precision, log-determinant, mean, (when ``pmean = Psi^-1 mu`` is given) the
    new ``Psi'^-1 mu'``, and ``u^T Psi^-1 u`` before the change.
    """
    new_kappa = kappa + weight
    s = weight * kappa / new_kappa
    u = x - mean
    pu = torch.bmm(precision, u.unsqueeze(-1)).squeeze(-1)
    quad = (u * pu).sum(-1)
    denom = 1 + s * quad
    coef = -(s / denom).unsqueeze(-1) * pu
    new_precision = torch.baddbmm(precision, coef.unsqueeze(-1), pu.unsqueeze(-2))
    step = (weight / new_kappa).unsqueeze(-1)
    new_mean = mean + step * u
    new_pmean = None
    if pmean is not None:  # P' mu' = P mu' - c pu (pu . mu'), with P mu' = P mu + step P u
        new_pmean = pmean + step * pu + coef * (pu * new_mean).sum(-1, keepdim=True)
    return new_precision, logdet + torch.log(denom), new_mean, new_pmean, quad
