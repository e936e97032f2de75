"""Planted fixtures with known answers, for the controls and for power simulations.

Each generator takes a ``numpy.random.Generator`` and returns data shaped like what a claim sees:
class-conditional per-example log-density sets (one array per class), per-bin series over density
bins, paired and two-group samples, and between-class KL divergences over stages.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

MeanFamily = Literal["gaussian", "skewed", "heavy", "uniform"]
MEAN_FAMILIES: tuple[MeanFamily, ...] = ("gaussian", "skewed", "heavy", "uniform")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def unimodal_draws(rng: np.random.Generator, n: int, family: MeanFamily) -> np.ndarray:
    """``n`` draws with mean 0 and sd 1 from a unimodal family.

    ``skewed``: standardised Gamma(4) (skewness 1); ``heavy``: standardised Student t(5);
    ``uniform``: the dip test's least favourable unimodal null.
    """
    if family == "gaussian":
        return rng.standard_normal(n)
    if family == "skewed":
        return (rng.gamma(4.0, size=n) - 4.0) / 2.0
    if family == "heavy":
        return rng.standard_t(5, size=n) / np.sqrt(5.0 / 3.0)
    if family == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=n)
    raise ValueError(f"family must be one of {MEAN_FAMILIES}, got {family!r}")


def class_sets(rng: np.random.Generator, means: np.ndarray, sds: np.ndarray,
               per_class: int) -> list[np.ndarray]:
    """Per-example log-densities: ``per_class`` normal draws around each class mean."""
    if per_class < 2:
        raise ValueError(f"per_class must be at least 2, got {per_class}")
    return [m + s * rng.standard_normal(per_class) for m, s in zip(means, sds, strict=True)]


def one_mode_classes(rng: np.random.Generator, n_classes: int, per_class: int,
                     family: MeanFamily = "gaussian", example_sd: float = 1.0,
                     sd_jitter: float = 0.2) -> list[np.ndarray]:
    """Classes whose means come from one unimodal family (no modes of class fitting).

    Class means have sd 1; per-example sds are ``example_sd`` times a log-normal jitter, so sds
    vary between classes without any grouping.
    """
    _positive("example_sd", example_sd)
    means = unimodal_draws(rng, n_classes, family)
    sds = example_sd * np.exp(sd_jitter * rng.standard_normal(n_classes))
    return class_sets(rng, means, sds, per_class)


def n_high_classes(n_classes: int, frac_high: float) -> int:
    if not 0.0 < frac_high < 1.0:
        raise ValueError(f"frac_high must lie in (0, 1), got {frac_high!r}")
    return int(np.clip(round(frac_high * n_classes), 1, n_classes - 1))


def two_mode_means(rng: np.random.Generator, n_classes: int, frac_high: float,
                   separation: float) -> tuple[np.ndarray, np.ndarray]:
    """Class means from two unit-sd Gaussian groups ``separation`` apart; returns (means, high)."""
    high = np.zeros(n_classes, dtype=bool)
    high[: n_high_classes(n_classes, frac_high)] = True
    means = rng.standard_normal(n_classes) + separation * high
    return means, high


def two_mode_classes(rng: np.random.Generator, n_classes: int, per_class: int,
                     frac_high: float = 0.3, separation: float = 8.0, spread_ratio: float = 10.0,
                     example_sd: float = 1.0,
                     sd_jitter: float = 0.2) -> tuple[list[np.ndarray], np.ndarray]:
    """Two modes of class fitting as in Fig. 1: a high-density group ``separation`` (class-mean
    sds) above the low group whose per-example sd is ``spread_ratio`` times smaller.

    Returns the per-class sets and the true high mask.
    """
    _positive("spread_ratio", spread_ratio)
    means, high = two_mode_means(rng, n_classes, frac_high, separation)
    sds = example_sd * np.exp(sd_jitter * rng.standard_normal(n_classes))
    sds = np.where(high, sds / spread_ratio, sds)
    return class_sets(rng, means, sds, per_class), high


def piecewise_series(rng: np.random.Generator, n_bins: int, transition: float,
                     slope_before: float, jump: float, slope_after: float,
                     noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin means over bins at x in [0, 1]: a line with slope ``slope_before`` up to
    ``transition``, a step of ``jump`` there, then slope ``slope_after``; Gaussian ``noise``.
    """
    if n_bins < 4:
        raise ValueError(f"n_bins must be at least 4, got {n_bins}")
    x = np.linspace(0.0, 1.0, n_bins)
    after = x >= transition
    y = np.where(after, jump + slope_after * (x - transition), slope_before * (x - transition))
    return x, y + noise * rng.standard_normal(n_bins)


def correlated(rng: np.random.Generator, n: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """A bivariate normal sample with Pearson correlation ``rho``."""
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must lie in (-1, 1), got {rho!r}")
    x = rng.standard_normal(n)
    y = rho * x + np.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    return x, y


def paired(rng: np.random.Generator, n: int, shift: float,
           unit_sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Paired values (a, b) sharing a per-unit effect; ``b - a`` has mean ``shift`` and sd 1."""
    base = unit_sd * rng.standard_normal(n)
    a = base + rng.standard_normal(n) / np.sqrt(2.0)
    b = base + shift + rng.standard_normal(n) / np.sqrt(2.0)
    return a, b


def two_groups(rng: np.random.Generator, n_a: int, n_b: int, shift: float,
               family: MeanFamily = "gaussian") -> tuple[np.ndarray, np.ndarray]:
    """Two independent samples; the second is shifted by ``shift`` (in sds)."""
    return unimodal_draws(rng, n_a, family), unimodal_draws(rng, n_b, family) + shift


def class_pairs(n_classes: int) -> np.ndarray:
    """All ordered pairs (P, Q), P != Q: the KL divergence is taken in both directions."""
    p, q = np.nonzero(~np.eye(n_classes, dtype=bool))
    return np.stack([p, q], axis=1)


def stage_kl(rng: np.random.Generator, n_classes: int, stage_means: tuple[float, ...],
             class_sd: float = 0.3, pair_sd: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Between-class KL divergences per stage over all ordered class pairs (Fig. 4).

    ``KL_s(P, Q) = stage_means[s] * exp(u_P + u_Q + e_PQs)``: class effects ``u`` shared by all
    pairs of a class and all stages (so pairs are dependent, as in real data), pair noise ``e``.
    Returns (kl of shape (stages, pairs), pairs of shape (pairs, 2)).
    """
    pairs = class_pairs(n_classes)
    u = class_sd * rng.standard_normal(n_classes)
    shared = u[pairs[:, 0]] + u[pairs[:, 1]]
    noise = pair_sd * rng.standard_normal((len(stage_means), len(pairs)))
    scale = np.exp(shared[None, :] + noise - 0.5 * (2 * class_sd**2 + pair_sd**2))
    return np.asarray(stage_means, dtype=float)[:, None] * scale, pairs
