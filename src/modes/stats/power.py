"""Power of the tests behind the absence claims (C2, C3, C10) by simulation.

An absence claim ("no modes in stages 1 and 2") means little unless the test could have seen the
effect it denies. :func:`two_mode_power` plants the two-mode effect observed in C1 (group sizes
and separation in units of the within-group sd of class means) into samples with the absent-claim's
number of classes and reports how often the decision rule detects it. Because the dip test and the
BIC comparison are location-scale invariant, the standardised effect transfers between stages whose
log-densities live on different scales. :func:`detectable_separation` gives the sensitivity
analysis: the smallest separation detected with the target power.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import attrs
import numpy as np
from scipy import stats

from modes.stats.modality import TwoModeRule
from modes.stats.planted import n_high_classes
from modes.stats.split import as_sample

T = TypeVar("T")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI for ``k`` successes in ``n`` trials."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


@attrs.frozen
class PowerEstimate:
    """Fraction of ``reps`` simulated samples in which the rule detected the planted effect."""

    power: float
    ci_low: float
    ci_high: float
    detections: int
    reps: int


def simulate_power(detect: Callable[[T], bool],
                   generate: Callable[[np.random.Generator], T],
                   reps: int = 500, seed: int = 0) -> PowerEstimate:
    """Run ``detect`` on ``reps`` samples from ``generate``; the rate with its exact 95% CI."""
    if reps < 10:
        raise ValueError(f"reps must be at least 10, got {reps}")
    rng = np.random.default_rng(seed)
    hits = sum(bool(detect(generate(rng))) for _ in range(reps))
    lo, hi = clopper_pearson(hits, reps)
    return PowerEstimate(power=hits / reps, ci_low=lo, ci_high=hi, detections=hits, reps=reps)


@attrs.frozen
class TwoModeEffect:
    """A two-mode effect in standard units: the high group's share and its separation from the
    low group in pooled within-group sds of the class means."""

    frac_high: float
    separation: float

    @classmethod
    def from_class_means(cls, class_means: object, high: object) -> TwoModeEffect:
        """The effect seen in an observed split (e.g. C1's stage 4)."""
        means = as_sample(class_means, "class_means", min_size=3)
        mask = np.asarray(high, dtype=bool)
        if mask.shape != means.shape:
            raise ValueError(f"high must have one entry per class ({means.size}), got {mask.shape}")
        lo, hi = means[~mask], means[mask]
        if lo.size == 0 or hi.size == 0:
            raise ValueError("high must select at least one class and leave at least one class")
        ss = ((lo - lo.mean()) ** 2).sum() + ((hi - hi.mean()) ** 2).sum()
        pooled = float(np.sqrt(ss / (means.size - 2)))
        if pooled == 0.0:
            raise ValueError("within-group spread is zero; the separation is undefined")
        return cls(frac_high=float(mask.mean()), separation=float((hi.mean() - lo.mean()) / pooled))

    def sample(self, rng: np.random.Generator, n_classes: int) -> np.ndarray:
        """Class means with this effect (low group N(0, 1), high group N(separation, 1))."""
        n_high = n_high_classes(n_classes, self.frac_high)
        return rng.standard_normal(n_classes) + self.separation * (np.arange(n_classes) < n_high)


def two_mode_power(effect: TwoModeEffect, n_classes: int,
                   rule: Callable[[np.ndarray], bool] | None = None, reps: int = 500,
                   seed: int = 0) -> PowerEstimate:
    """Power of ``rule`` (default: :class:`TwoModeRule`) against ``effect`` with ``n_classes``."""
    if n_classes < 4:
        raise ValueError(f"n_classes must be at least 4, got {n_classes}")
    decide = rule if rule is not None else TwoModeRule()
    return simulate_power(decide, lambda rng: effect.sample(rng, n_classes), reps, seed)


def detectable_separation(n_classes: int, frac_high: float,
                          rule: Callable[[np.ndarray], bool] | None = None,
                          target: float = 0.8, reps: int = 200, seed: int = 0,
                          upper: float = 40.0, tol: float = 0.1) -> float:
    """Smallest separation (pooled sds) detected with power >= ``target``, by bisection.

    Common random numbers (the same unit-normal draws for every separation) keep the simulated
    power monotone in the separation. Returns ``inf`` when even ``upper`` is not detected.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must lie in (0, 1), got {target!r}")
    decide = rule if rule is not None else TwoModeRule()
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((reps, n_classes))
    shift = (np.arange(n_classes) < n_high_classes(n_classes, frac_high)).astype(float)

    def power(sep: float) -> float:
        return float(np.mean([decide(z + sep * shift) for z in noise]))

    if power(upper) < target:
        return float("inf")
    lo, hi = 0.0, upper
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if power(mid) >= target else (mid, hi)
    return hi
