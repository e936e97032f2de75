"""Associations and comparisons used by C4, C6, C8 and C9.

* :func:`spearman`: rank association with a Fisher-z CI (Bonett & Wright 2000 variance).
* :func:`paired_comparison`: Wilcoxon signed-rank over paired units, with the median difference
  (bootstrap CI) and the matched-pairs rank-biserial correlation as effect sizes.
* :func:`two_sample_ranks` / :func:`welch`: Mann-Whitney U with the rank-biserial correlation
  (bootstrap CI), and Welch's t with Hedges' g (normal-approximation CI).
* :func:`stage_growth`: which consecutive-stage increase of the mean between-class KL is largest,
  with a class-cluster bootstrap.

Class pairs are not independent units: every pair shares its two classes with many other pairs.
:func:`class_bootstrap_weights` resamples *classes* and weights each pair by the product of its
classes' multiplicities (the pairs among the resampled classes); :func:`per_class_means`
aggregates pair values to classes so that rank tests run over (nearly) independent units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs
import numpy as np
from scipy import stats

from modes.stats.split import as_sample

Alternative = Literal["greater", "less", "two-sided"]
_ALTERNATIVES = ("greater", "less", "two-sided")


def _check_alternative(alternative: str) -> None:
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")


def _pair(a: object, b: object, names: tuple[str, str], min_size: int,
          same_length: bool) -> tuple[np.ndarray, np.ndarray]:
    xa, xb = as_sample(a, names[0], min_size), as_sample(b, names[1], min_size)
    if same_length and xa.shape != xb.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same length, "
                         f"got {xa.size} and {xb.size}")
    return xa, xb


@attrs.frozen
class Association:
    """Spearman's rho, its p-value for the stated alternative and a CI for rho."""

    rho: float
    p_value: float
    ci_low: float
    ci_high: float
    n: int
    alternative: str


def spearman(x: object, y: object, alternative: Alternative = "two-sided",
             confidence: float = 0.95) -> Association:
    """Spearman rank correlation; CI by Fisher z with variance ``(1 + rho^2/2) / (n - 3)``."""
    _check_alternative(alternative)
    _check_confidence(confidence)
    xs, ys = _pair(x, y, ("x", "y"), 4, True)
    res = stats.spearmanr(xs, ys, alternative=alternative)
    rho = float(res.statistic)
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    se = np.sqrt((1.0 + rho * rho / 2.0) / (xs.size - 3))
    q = stats.norm.ppf(0.5 + confidence / 2.0)
    return Association(rho=rho, p_value=float(res.pvalue), ci_low=float(np.tanh(z - q * se)),
                       ci_high=float(np.tanh(z + q * se)), n=int(xs.size), alternative=alternative)


def _resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """How often each of ``n`` units is drawn in each of ``n_boot`` resamples of size ``n``."""
    counts: np.ndarray = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot)
    return counts


def _percentile_ci(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 50.0 * (1.0 - confidence)
    lo, hi = np.percentile(boot, [tail, 100.0 - tail])
    return float(lo), float(hi)


def _bootstrap_ci(samples: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray],
                  n_boot: int, confidence: float, seed: int) -> tuple[float, float]:
    """Percentile bootstrap CI (``scipy.stats.bootstrap``), each sample resampled on its own."""
    res = stats.bootstrap(samples, statistic, n_resamples=n_boot, confidence_level=confidence,
                          method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _rank_biserial(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """``2 U_a / (n_a n_b) - 1`` along ``axis`` (vectorised for the bootstrap)."""
    u = stats.mannwhitneyu(a, b, axis=axis, method="asymptotic").statistic
    r: np.ndarray = 2.0 * u / (a.shape[axis] * b.shape[axis]) - 1.0
    return r


@attrs.frozen
class PairedComparison:
    """Wilcoxon signed-rank test of ``a - b``; effects: median difference and rank-biserial r."""

    statistic: float
    p_value: float
    median_difference: float
    ci_low: float
    ci_high: float
    rank_biserial: float
    n: int
    alternative: str


def paired_comparison(a: object, b: object, alternative: Alternative = "two-sided",
                      n_boot: int = 2000, confidence: float = 0.95,
                      seed: int = 0) -> PairedComparison:
    """Wilcoxon signed-rank test on paired units (``a[i]`` vs ``b[i]``).

    ``alternative="less"`` tests H1: ``a`` tends to be smaller than ``b`` (C8: memorized subsets
    give less distinct classes than typical ones). The CI of the median difference is a percentile
    bootstrap over units; the rank-biserial r is ``(W+ - W-) / (W+ + W-)`` (positive: ``a > b``).
    """
    _check_alternative(alternative)
    _check_confidence(confidence)
    xa, xb = _pair(a, b, ("a", "b"), 5, True)
    d = xa - xb
    if np.all(d == 0):
        raise ValueError("a and b are identical; the paired comparison is undefined")
    res = stats.wilcoxon(xa, xb, alternative=alternative)
    nz = d[d != 0]
    ranks = stats.rankdata(np.abs(nz))
    w_plus, w_minus = ranks[nz > 0].sum(), ranks[nz < 0].sum()
    lo, hi = _bootstrap_ci((d,), np.median, n_boot, confidence, seed)
    return PairedComparison(statistic=float(res.statistic), p_value=float(res.pvalue),
                            median_difference=float(np.median(d)), ci_low=lo, ci_high=hi,
                            rank_biserial=float((w_plus - w_minus) / (w_plus + w_minus)),
                            n=int(d.size), alternative=alternative)


@attrs.frozen
class RankComparison:
    """Mann-Whitney U for ``a`` vs ``b`` with the rank-biserial r (positive: ``a`` larger)."""

    statistic: float
    p_value: float
    rank_biserial: float
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int
    alternative: str


def two_sample_ranks(a: object, b: object, alternative: Alternative = "two-sided",
                     n_boot: int = 2000, confidence: float = 0.95,
                     seed: int = 0) -> RankComparison:
    """Mann-Whitney U test; r = 2 U_a / (n_a n_b) - 1 with a percentile bootstrap CI (``a`` and
    ``b`` resampled independently)."""
    _check_alternative(alternative)
    _check_confidence(confidence)
    xa, xb = _pair(a, b, ("a", "b"), 2, False)
    res = stats.mannwhitneyu(xa, xb, alternative=alternative)
    lo, hi = _bootstrap_ci((xa, xb), _rank_biserial, n_boot, confidence, seed)
    return RankComparison(statistic=float(res.statistic), p_value=float(res.pvalue),
                          rank_biserial=float(2.0 * res.statistic / (xa.size * xb.size) - 1.0),
                          ci_low=lo, ci_high=hi,
                          n_a=int(xa.size), n_b=int(xb.size), alternative=alternative)


@attrs.frozen
class MeanComparison:
    """Welch's t test of ``mean(a) - mean(b)`` with Hedges' g (bias-corrected Cohen's d)."""

    statistic: float
    p_value: float
    df: float
    hedges_g: float
    ci_low: float
    ci_high: float
    n_a: int
    n_b: int
    alternative: str


def welch(a: object, b: object, alternative: Alternative = "two-sided",
          confidence: float = 0.95) -> MeanComparison:
    """Welch's t test; g's CI uses the Hedges & Olkin large-sample variance."""
    _check_alternative(alternative)
    _check_confidence(confidence)
    xa, xb = _pair(a, b, ("a", "b"), 2, False)
    na, nb = xa.size, xb.size
    pooled = np.sqrt(((na - 1) * xa.var(ddof=1) + (nb - 1) * xb.var(ddof=1)) / (na + nb - 2))
    if pooled == 0.0:
        raise ValueError("a and b have zero variance; Hedges' g is undefined")
    res = stats.ttest_ind(xa, xb, equal_var=False, alternative=alternative)
    correction = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0)
    g = correction * (xa.mean() - xb.mean()) / pooled
    se = np.sqrt((na + nb) / (na * nb) + g * g / (2.0 * (na + nb)))
    q = stats.norm.ppf(0.5 + confidence / 2.0)
    return MeanComparison(statistic=float(res.statistic), p_value=float(res.pvalue),
                          df=float(res.df), hedges_g=float(g), ci_low=float(g - q * se),
                          ci_high=float(g + q * se), n_a=int(na), n_b=int(nb),
                          alternative=alternative)


def _check_pairs(pairs: object, n_items: int) -> np.ndarray:
    arr = np.asarray(pairs)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] != n_items:
        raise ValueError(f"pairs must have shape ({n_items}, 2), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0:
        raise ValueError("pairs must hold non-negative integer class indices")
    return arr.astype(np.int64)


def class_bootstrap_weights(pairs: np.ndarray, rng: np.random.Generator,
                            n_boot: int) -> np.ndarray:
    """Pair weights (n_boot, n_pairs) from resampling classes with replacement.

    A pair (P, Q) enters a resample as often as P times as often as Q were drawn, i.e. the
    resample holds exactly the pairs among the resampled classes.
    """
    counts = _resample_counts(rng, int(pairs.max()) + 1, n_boot).astype(float)
    weights: np.ndarray = counts[:, pairs[:, 0]] * counts[:, pairs[:, 1]]
    return weights


def per_class_means(values: object, pairs: object) -> np.ndarray:
    """Mean of pair values over the pairs each class takes part in (as P or as Q)."""
    vals = as_sample(values, "values")
    prs = _check_pairs(pairs, vals.size)
    n_classes = int(prs.max()) + 1
    total = np.bincount(prs[:, 0], vals, n_classes) + np.bincount(prs[:, 1], vals, n_classes)
    count = np.bincount(prs[:, 0], minlength=n_classes) + np.bincount(prs[:, 1],
                                                                      minlength=n_classes)
    if np.any(count == 0):
        raise ValueError("every class index up to the largest must occur in some pair")
    means: np.ndarray = total / count
    return means


@attrs.frozen
class StageGrowth:
    """Increases of the mean between-class KL between consecutive stages (Fig. 4).

    ``margin`` = target increase minus the largest other increase, with a class-cluster bootstrap
    CI; ``p_value`` is the bootstrap share of resamples with ``margin <= 0`` (H0: the target step
    is not the largest), ``prob_largest`` the share in which the target step is the largest.
    """

    increases: tuple[float, ...]
    largest: int
    target: int
    margin: float
    ci_low: float
    ci_high: float
    p_value: float
    prob_largest: float
    n_pairs: int
    n_classes: int
    n_boot: int


def stage_growth(kl: object, pairs: object, target: int = 1, n_boot: int = 2000,
                 confidence: float = 0.95, seed: int = 0) -> StageGrowth:
    """Which consecutive-stage increase of the mean KL is largest; ``target`` indexes increases
    (0: stage 1->2, 1: stage 2->3, ...). ``kl`` has shape (stages, pairs).

    The class bootstrap captures the dependence that class effects induce between pairs; where
    class effects cancel in the margin (they scale all stages alike) it over-states the
    variance of the remaining pair-level noise, so the test is conservative there (the controls
    measure a false-positive rate near 0 at alpha 0.05).
    """
    _check_confidence(confidence)
    values = np.asarray(kl, dtype=float)
    if values.ndim != 2 or values.shape[0] < 3:
        raise ValueError(f"kl must have shape (stages >= 3, pairs), got {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("kl contains non-finite values")
    prs = _check_pairs(pairs, values.shape[1])
    n_inc = values.shape[0] - 1
    if not 0 <= target < n_inc:
        raise ValueError(f"target must index one of the {n_inc} increases, got {target}")
    if n_boot < 100:
        raise ValueError(f"n_boot must be at least 100, got {n_boot}")

    def margins(mean_kl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inc = np.diff(mean_kl, axis=-1)
        others = np.delete(inc, target, axis=-1)
        return inc, inc[..., target] - others.max(axis=-1)

    inc, margin = margins(values.mean(axis=1))
    # Own resampling, not scipy.stats.bootstrap: the statistic lives on pairs weighted by resampled
    # classes, a resample with fewer than two distinct classes holds no pair and is dropped (scipy
    # cannot drop one; its NaN would void the CI), and p_value and prob_largest need the whole
    # bootstrap distribution of the increases.
    rng = np.random.default_rng(seed)
    w = class_bootstrap_weights(prs, rng, n_boot)
    keep = w.sum(axis=1) > 0
    boot_mean = (w[keep] @ values.T) / w[keep].sum(axis=1, keepdims=True)
    boot_inc, boot_margin = margins(boot_mean)
    lo, hi = _percentile_ci(boot_margin, confidence)
    return StageGrowth(
        increases=tuple(float(v) for v in inc), largest=int(np.argmax(inc)), target=target,
        margin=float(margin), ci_low=lo, ci_high=hi,
        p_value=float((np.sum(boot_margin <= 0.0) + 1) / (boot_margin.size + 1)),
        prob_largest=float(np.mean(np.argmax(boot_inc, axis=1) == target)),
        n_pairs=int(values.shape[1]), n_classes=int(prs.max()) + 1, n_boot=int(keep.sum()),
    )
