"""Evidence for two modes of class fitting in a set of class-mean log-densities (Fig. 1).

Three pieces: Hartigan's dip test of unimodality (``diptest``), a BIC comparison of one and two
1-D Gaussian components (a small EM, below), and the ratio of the two groups' spreads of
per-example log-densities with a CI. The dip test is the primary test: it
is valid for any unimodal null (the uniform is least favourable, so it is conservative for
Gaussian-like nulls). BIC alone over-splits skewed or heavy-tailed unimodal samples; use it with
the dip test, as :class:`TwoModeRule` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import diptest
import numpy as np
from scipy import stats

from modes.stats.split import as_sample, largest_gap_split

_LOG_2PI = float(np.log(2.0 * np.pi))


@attrs.frozen
class DipResult:
    """Hartigan's dip statistic and its p-value (H0: the sample is unimodal)."""

    statistic: float
    p_value: float
    n: int


def dip_test(x: object) -> DipResult:
    """Hartigan & Hartigan's dip test with the tabulated (interpolated) null distribution."""
    sample = as_sample(x, "x", min_size=4)
    dip, p = diptest.diptest(sample)
    return DipResult(statistic=float(dip), p_value=float(p), n=int(sample.size))


@attrs.frozen
class MixtureBIC:
    """BIC of one and of two 1-D Gaussian components; ``delta = bic_one - bic_two`` (>0: two)."""

    bic_one: float
    bic_two: float
    means: tuple[float, float]
    sds: tuple[float, float]
    weights: tuple[float, float]
    n: int

    @property
    def delta(self) -> float:
        return self.bic_one - self.bic_two


def _normal_logpdf(x: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    z = (x[:, None] - mu[None, :]) / sd[None, :]
    return -0.5 * (z * z) - np.log(sd)[None, :] - 0.5 * _LOG_2PI


def _em_two(x: np.ndarray, labels: np.ndarray, sd_floor: float, max_iter: int,
            tol: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """EM for a 2-component 1-D mixture from a hard initial labelling; returns (loglik, params)."""
    resp = np.stack([~labels, labels], axis=1).astype(float)
    loglik = -np.inf
    mu = sd = w = np.zeros(2)
    for _ in range(max_iter):
        nk = resp.sum(axis=0) + 1e-12
        w = nk / x.size
        mu = (resp * x[:, None]).sum(axis=0) / nk
        var = (resp * (x[:, None] - mu[None, :]) ** 2).sum(axis=0) / nk
        sd = np.maximum(np.sqrt(var), sd_floor)
        joint = _normal_logpdf(x, mu, sd) + np.log(w)[None, :]
        norm = np.logaddexp(joint[:, 0], joint[:, 1])
        new = float(norm.sum())
        resp = np.exp(joint - norm[:, None])
        if new - loglik < tol:
            loglik = new
            break
        loglik = new
    return loglik, mu, sd, w


def mixture_bic(x: object, sd_floor_fraction: float = 0.05, max_iter: int = 200,
                tol: float = 1e-8) -> MixtureBIC:
    """BIC (``-2 loglik + k log n``) of 1 (k=2) vs 2 (k=5) Gaussian components fitted by EM.

    The two-component fit keeps the best of several initial splits (the largest gap and the
    quartiles). Component sds are floored at ``sd_floor_fraction`` times the sample sd, which keeps
    the likelihood bounded (a component cannot collapse onto one point).
    """
    sample = as_sample(x, "x", min_size=4)
    if not 0.0 < sd_floor_fraction < 1.0:
        raise ValueError(f"sd_floor_fraction must lie in (0, 1), got {sd_floor_fraction!r}")
    n = sample.size
    sd1 = float(sample.std())
    if sd1 == 0.0:
        raise ValueError("x has zero variance; a mixture cannot be fitted")
    ll_one = float(np.sum(-0.5 * ((sample - sample.mean()) / sd1) ** 2 - np.log(sd1)
                          - 0.5 * _LOG_2PI))
    inits = [largest_gap_split(sample).high]
    inits += [sample > q for q in np.quantile(sample, [0.25, 0.5, 0.75])]
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
    for labels in inits:
        if labels.all() or not labels.any():
            continue
        fit = _em_two(sample, labels, sd_floor_fraction * sd1, max_iter, tol)
        if best is None or fit[0] > best[0]:
            best = fit
    assert best is not None  # the largest-gap split always has both groups
    ll_two, mu, sd, w = best
    order = np.argsort(mu)
    log_n = float(np.log(n))
    return MixtureBIC(
        bic_one=-2.0 * ll_one + 2 * log_n,
        bic_two=-2.0 * ll_two + 5 * log_n,
        means=(float(mu[order[0]]), float(mu[order[1]])),
        sds=(float(sd[order[0]]), float(sd[order[1]])),
        weights=(float(w[order[0]]), float(w[order[1]])),
        n=int(n),
    )


@attrs.frozen
class TwoModeRule:
    """Decision rule "the class means form two modes": dip test rejects AND BIC prefers two.

    ``bic_margin`` 10 is "very strong" evidence on the Kass-Raftery scale.
    """

    alpha: float = 0.01
    bic_margin: float = 10.0

    def __attrs_post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha!r}")

    def __call__(self, class_means: object) -> bool:
        return (dip_test(class_means).p_value < self.alpha
                and mixture_bic(class_means).delta > self.bic_margin)


@attrs.frozen
class SpreadRatio:
    """Ratio of the groups' mean per-example log-density sds (low / high) with a CI.

    The paper reports about an order of magnitude (high-density classes have the smaller spread).
    Classes are the units: the CI is ``exp(log R -+ t_df se)`` with the delta-method standard error
    of the log ratio of two independent group means and Welch-Satterthwaite degrees of freedom
    (the controls measure its coverage with 6 and 30 high-density classes).
    """

    ratio: float
    ci_low: float
    ci_high: float
    df: float
    n_low: int
    n_high: int


def class_sds(per_class: Sequence[object]) -> np.ndarray:
    """Sample sd (ddof=1) of per-example log-densities, one per class."""
    return np.array([as_sample(v, f"per_class[{i}]").std(ddof=1) for i, v in enumerate(per_class)])


def class_means(per_class: Sequence[object]) -> np.ndarray:
    """Mean per-example log-density, one per class (the class means of Fig. 1)."""
    return np.array([as_sample(v, f"per_class[{i}]", 1).mean() for i, v in enumerate(per_class)])


def spread_ratio(per_class: Sequence[object], high: object,
                 confidence: float = 0.95) -> SpreadRatio:
    """Low/high ratio of mean class sds of per-example log-densities, with a log-scale t CI."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    sds = class_sds(per_class)
    mask = np.asarray(high, dtype=bool)
    if mask.shape != sds.shape:
        raise ValueError(f"high must have one entry per class ({sds.size}), got {mask.shape}")
    low_sd, high_sd = sds[~mask], sds[mask]
    if low_sd.size < 2 or high_sd.size < 2:
        raise ValueError(f"each group needs at least 2 classes for a CI, got {low_sd.size} low "
                         f"and {high_sd.size} high")
    m_low, m_high = float(low_sd.mean()), float(high_sd.mean())
    if m_high == 0.0 or m_low == 0.0:
        raise ValueError("a group has zero spread; the ratio is undefined")
    v_low = low_sd.var(ddof=1) / low_sd.size / m_low**2
    v_high = high_sd.var(ddof=1) / high_sd.size / m_high**2
    var = v_low + v_high
    denom = v_low**2 / (low_sd.size - 1) + v_high**2 / (high_sd.size - 1)
    df = float(var**2 / denom) if denom > 0 else float("inf")
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df) * np.sqrt(var))
    log_ratio = float(np.log(m_low / m_high))
    return SpreadRatio(ratio=m_low / m_high, ci_low=float(np.exp(log_ratio - half)),
                       ci_high=float(np.exp(log_ratio + half)), df=df,
                       n_low=int(low_sd.size), n_high=int(high_sd.size))


@attrs.frozen
class TwoModeEvidence:
    """Everything C1 asserts about one stage: split, dip test, BIC and spread ratio.

    ``spread`` is None when the largest gap isolates a single class (no CI is possible; this is
    typical of one-mode stages, where the largest gap sits next to an extreme class).
    """

    threshold: float
    gap: float
    n_high: int
    dip: DipResult
    bic: MixtureBIC
    spread: SpreadRatio | None


def two_mode_evidence(per_class: Sequence[object], confidence: float = 0.95) -> TwoModeEvidence:
    """Largest-gap split of the class means plus the three pieces of evidence on them."""
    means = class_means(per_class)
    split = largest_gap_split(means)
    spread = (spread_ratio(per_class, split.high, confidence)
              if min(split.n_low, split.n_high) >= 2 else None)
    return TwoModeEvidence(threshold=split.threshold, gap=split.gap, n_high=split.n_high,
                           dip=dip_test(means), bic=mixture_bic(means), spread=spread)
