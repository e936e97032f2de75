"""Per-class checks of a fit, on the quantities the claims use (sampler-artifact issue).

The claims read a class's mean and sd of log-densities (Fig. 1). Each kept state ``c_t`` of each
chain gives its own value of both (the per-state terms of Eq. 3), so the chains' traces of those
two numbers are what must agree: rank-normalised split R-hat and bulk ESS (Vehtari et al. 2021,
via ``arviz``) per class. Three flags per class, each a reason a class's densities cannot be read
as the paper reads them:

* ``chains_disagree``: R-hat of the class mean (or sd) log-density above ``rhat_max`` **and** the
  chains' means of it further apart than the larger of ``gap_fraction`` of the largest gap
  between the sorted class means and the class mean's own standard error. R-hat alone flags
  differences of hundredths of a nat when within-chain variation is tiny (chains started in one
  component and in six random ones settle about 1 nat apart on a Gaussian class,
  bench_null_artifact.py); the claims read class means against each other, and the largest gap
  is where Fig. 1 splits them: a class whose chains disagree by less than a quarter of it cannot
  be carried across the split's midpoint by the disagreement. Where classes form no modes the
  largest gap is small, and so is a quarter of it: on a null world (150 single-Gaussian classes,
  300 points, 8 dims) half the classes had R-hat > 1.1, the largest gap was 0.17 nats, and one
  class was flagged for chains 0.045 nats apart. The standard error of a class mean (the sd of
  its points' log-densities over the square root of their number, :func:`with_sampling_floor`,
  applied where a measurement is read) is the resolution of the number the claims read: a
  disagreement below it is smaller than the class mean's own sampling error, which every test on
  class means already carries, and cannot be a reason to not read the class;
* ``degenerate``: on average over kept states, more than ``small_max`` of the class's points sit
  in *collapsed* components: fewer points ``m`` than dimensions, so that off their points' span
  the posterior mean covariance is the prior's times ``(nu0 - d - 1) / (nu0 - d - 1 + m)``, and
  more points than ``nu0 - d - 1``, so that this factor is below 1/2 (under the authors' prior,
  ``nu0 - d - 1 = 1``, every component of 2 to d - 1 points; under the firm prior,
  ``nu0 = 4d``, none: :mod:`modes.experiments.null_artifact`);
* ``overfit``: in-sample mean log-density above the held-out (cross-fitted) one by more than twice
  the optimism of one full-covariance Gaussian, ``d (d + 3) / (2 n)`` nats per point (the number of
  its parameters over the points fitted: Akaike's bias), and at least ``overfit_min`` nats.
"""

from __future__ import annotations

import attrs
import numpy as np
import torch
from scipy import stats

from .diagnostics import MIN_DRAWS, bulk_ess, rank_rhat

RHAT_MAX = 1.1
GAP_FRACTION = 0.25
SMALL_MAX = 0.5
OVERFIT_MIN = 3.0


@attrs.frozen
class Thresholds:
    """When a class is flagged (see the module docstring for why these values)."""

    rhat_max: float = RHAT_MAX
    gap_fraction: float = GAP_FRACTION
    small_max: float = SMALL_MAX
    overfit_min: float = OVERFIT_MIN


@attrs.frozen(eq=False)
class ClassDiagnostics:
    """Per class (``classes`` in increasing order): convergence of the claim quantities, flags."""

    classes: np.ndarray
    rhat_mean: np.ndarray  # split R-hat of the per-state class mean log-density
    rhat_sd: np.ndarray  # ... of the per-state class sd of log-densities
    ess_mean: np.ndarray  # bulk ESS of the class mean
    chain_spread: np.ndarray  # max - min over chains of the chain's mean class mean (nats)
    spread_max: np.ndarray  # the tolerated chain spread (nats): a fraction of the largest gap,
    # at least the class mean's standard error once read (with_sampling_floor)
    small_fraction: np.ndarray  # mean fraction of points in components with < d points
    optimism: np.ndarray  # in-sample minus held-out class mean (NaN when no held-out given)
    optimism_bound: np.ndarray  # the overfit threshold per class
    thresholds: Thresholds = Thresholds()

    @property
    def chains_disagree(self) -> np.ndarray:
        t = self.thresholds
        rhat = np.nan_to_num(np.maximum(self.rhat_mean, self.rhat_sd), nan=1.0)
        return np.asarray((rhat > t.rhat_max) & (self.chain_spread > self.spread_max))

    @property
    def degenerate(self) -> np.ndarray:
        return np.asarray(self.small_fraction > self.thresholds.small_max)

    @property
    def overfit(self) -> np.ndarray:
        return np.asarray(np.nan_to_num(self.optimism, nan=0.0) > self.optimism_bound)

    @property
    def flagged(self) -> np.ndarray:
        return np.asarray(self.chains_disagree | self.degenerate | self.overfit)

    def reasons(self, i: int) -> list[str]:
        """Why class ``classes[i]`` is flagged, with its numbers."""
        out = []
        if self.chains_disagree[i]:
            out.append(f"chains disagree (R-hat {self.rhat_mean[i]:.2f}, chain means "
                       f"{self.chain_spread[i]:.1f} nats apart)")
        if self.degenerate[i]:
            out.append(f"degenerate components ({self.small_fraction[i]:.0%} of points in "
                       f"components with fewer points than dimensions)")
        if self.overfit[i]:
            out.append(f"held-out {self.optimism[i]:.1f} nats/pt below in-sample")
        return out

    def summary(self) -> dict[str, object]:
        """JSON-able per-class numbers and flags (for records)."""
        return {
            "classes": self.classes.tolist(),
            "rhat_mean": self.rhat_mean.tolist(), "rhat_sd": self.rhat_sd.tolist(),
            "ess_mean": self.ess_mean.tolist(), "chain_spread": self.chain_spread.tolist(),
            "spread_max": self.spread_max.tolist(),
            "small_fraction": self.small_fraction.tolist(), "optimism": self.optimism.tolist(),
            "chains_disagree": self.chains_disagree.tolist(),
            "degenerate": self.degenerate.tolist(), "overfit": self.overfit.tolist(),
            "flagged": self.flagged.tolist(),
        }


def class_mean_standard_errors(log_density: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per class (in increasing order), the standard error of its mean log-density from its own
    points: the sd of their log-densities (ddof 1) over the square root of their number."""
    ld, labels = np.asarray(log_density, dtype=np.float64), np.asarray(labels)
    if ld.shape != labels.shape:
        raise ValueError(f"log-densities {ld.shape} and labels {labels.shape} differ in shape")
    out = []
    for c in np.unique(labels):
        part = ld[labels == c]
        out.append(stats.sem(part) if part.size > 1 else np.inf)
    return np.array(out)


def with_sampling_floor(diagnostics: ClassDiagnostics, log_density: np.ndarray,
                        labels: np.ndarray) -> ClassDiagnostics:
    """``diagnostics`` with each class's tolerated chain spread at least the standard error of its
    mean log-density (:func:`class_mean_standard_errors` of the measurement's ``log_density``
    (N,) read with ``labels``; module docstring: why)."""
    se = class_mean_standard_errors(log_density, labels)
    if se.shape != diagnostics.classes.shape:
        raise ValueError(f"{se.size} classes in the labels, {diagnostics.classes.size} in the "
                         f"diagnostics")
    return attrs.evolve(diagnostics, spread_max=np.maximum(diagnostics.spread_max, se))


def class_state_traces(lp_states: np.ndarray, labels: np.ndarray,
                       chains: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class, the (chains, draws) traces of the mean and sd of ``lp_states`` (T, m) over the
    class's points; kept state ``t`` belongs to chain ``t % chains``. Returns classes, means
    (C, chains, draws) and sds."""
    lp = np.asarray(lp_states, dtype=np.float64)
    if lp.shape[0] % chains:
        raise ValueError(f"{lp.shape[0]} kept states do not split into {chains} chains")
    classes = np.unique(labels)
    draws = lp.shape[0] // chains
    means = np.empty((classes.size, chains, draws))
    sds = np.empty_like(means)
    for i, c in enumerate(classes):
        part = lp[:, labels == c].reshape(draws, chains, -1)
        means[i] = part.mean(-1).T
        sds[i] = part.std(-1).T
    return classes, means, sds


def small_component_fraction(counts: torch.Tensor, dim: int, nu0: float) -> np.ndarray:
    """Mean over kept states of the fraction of a group's points in collapsed components (fewer
    than ``dim`` points, more than ``nu0 - dim - 1``); ``counts`` (T, G, K) -> (G,)."""
    c = counts.to(torch.float64)
    small = ((c > nu0 - dim - 1) & (c < dim)).to(c.dtype)
    return np.asarray(((c * small).sum(-1) / c.sum(-1)).mean(0).cpu().numpy())


def _rhat(trace: np.ndarray) -> float:
    if trace.shape[0] < 2 or trace.shape[1] < MIN_DRAWS:
        return float("nan")
    return rank_rhat(trace)


def _ess(trace: np.ndarray) -> float:
    if trace.shape[1] < MIN_DRAWS:
        return float("nan")
    return bulk_ess(trace)


def diagnose_classes(lp_states: np.ndarray, labels: np.ndarray, chains: int,
                     small_fraction: np.ndarray, dim: int, n_fit: np.ndarray,
                     in_sample_mean: np.ndarray | None = None,
                     thresholds: Thresholds = Thresholds()) -> ClassDiagnostics:
    """Diagnostics of every class from its per-state log-densities ``lp_states`` (T, m) (held-out
    ones when the fit was cross-fitted), the classes' ``small_fraction`` (C,), the number of
    points each class model was fitted on ``n_fit`` (C,) and, to check overfitting, the in-sample
    class means ``in_sample_mean`` (C,) of an in-sample fit with the same prior."""
    classes, means, sds = class_state_traces(lp_states, labels, chains)
    held = means.mean((1, 2))
    optimism = (np.asarray(in_sample_mean) - held if in_sample_mean is not None
                else np.full(classes.size, np.nan))
    n_fit = np.asarray(n_fit, dtype=np.float64)
    bound = np.maximum(thresholds.overfit_min, dim * (dim + 3) / n_fit)
    chain_means = means.mean(2)
    gap = float(np.diff(np.sort(held)).max()) if held.size > 1 else 0.0
    tolerance = thresholds.gap_fraction * gap
    return ClassDiagnostics(
        classes=classes,
        rhat_mean=np.array([_rhat(m) for m in means]),
        rhat_sd=np.array([_rhat(s) for s in sds]),
        ess_mean=np.array([_ess(m) for m in means]),
        chain_spread=np.ptp(chain_means, axis=1),
        spread_max=np.full(classes.size, tolerance),
        small_fraction=np.asarray(small_fraction, dtype=np.float64),
        optimism=optimism, optimism_bound=bound, thresholds=thresholds)
