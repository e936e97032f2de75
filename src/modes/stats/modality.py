"""Evidence for two modes of class fitting in a set of class-mean log-densities (Fig. 1).

Three pieces: Hartigan's dip test of unimodality (``diptest``), a BIC comparison of one and two
1-D Gaussian components (scikit-learn's ``GaussianMixture`` EM, in numpy), and the ratio of the
two groups' spreads of per-example log-densities with a CI. The dip test is the primary test: it
is valid for any unimodal null (the uniform is least favourable, so it is conservative for
Gaussian-like nulls). BIC alone over-splits skewed or heavy-tailed unimodal samples; use it with
the dip test, as :class:`TwoModeRule` does.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs
import diptest
import numpy as np
from scipy import stats
from sklearn.mixture import GaussianMixture

from modes.stats.split import as_sample, largest_gap_split


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


def _init_from_split(z: np.ndarray, high: np.ndarray,
                     floor_var: float) -> dict[str, np.ndarray]:
    """GaussianMixture starting values from a hard two-group labelling (low group first)."""
    groups = [z[~high], z[high]]
    var = np.array([max(float(g.var()), floor_var) for g in groups])
    return {"weights_init": np.array([g.size for g in groups]) / z.size,
            "means_init": np.array([[g.mean()] for g in groups]),
            "precisions_init": (1.0 / var).reshape(2, 1, 1)}


def mixture_bic(x: object, sd_floor_fraction: float = 0.05, max_iter: int = 1000,
                tol: float = 1e-6) -> MixtureBIC:
    """BIC (``-2 loglik + k log n``) of 1 (k=2) vs 2 (k=5) Gaussian components fitted by EM.

    ``sklearn.mixture.GaussianMixture``'s EM on the standardised sample (BIC as its ``.bic()``,
    moved back to the sample's units), run by :func:`_two_gaussian_em`, a numpy copy of it kept for
    speed (its docstring gives the measured ratio; :func:`sklearn_mixture_bic` is the fit by
    ``GaussianMixture`` itself, which the tests compare). The two-component fit keeps the best of
    several initial splits (the largest gap and the quartiles). Both fits add ``reg_covar =
    sd_floor_fraction**2`` to each standardised component variance, so every component sd is at
    least ``sd_floor_fraction`` times the sample sd, which keeps the likelihood bounded (a component
    cannot collapse onto one point). Unlike a hard floor ``max(sd, floor)`` this inflates every sd,
    ``sd = sqrt(sd_mle**2 + floor**2)``: by 1.00125 for the one-component fit and, e.g., by 1.12 for
    a component of a tenth of the sample sd. EM stops when the mean per-example log-likelihood gains
    less than ``tol`` (scikit-learn's convention; unimodal samples converge slowly, hence the 1000
    iterations).
    """
    sample = as_sample(x, "x", min_size=4)
    if not 0.0 < sd_floor_fraction < 1.0:
        raise ValueError(f"sd_floor_fraction must lie in (0, 1), got {sd_floor_fraction!r}")
    n = sample.size
    centre, sd1 = float(sample.mean()), float(sample.std())
    if sd1 == 0.0:
        raise ValueError("x has zero variance; a mixture cannot be fitted")
    z = ((sample - centre) / sd1)[:, None]
    floor_var = sd_floor_fraction**2
    starts = [_init_from_split(z[:, 0], high, floor_var) for high in _initial_splits(sample)]
    score_one = _one_gaussian_score(z[:, 0], floor_var)
    weights, mu, var, score_two = _two_gaussian_em(z[:, 0], starts, floor_var, max_iter, tol)
    order = np.argsort(mu)
    means = centre + sd1 * mu[order]
    sds = sd1 * np.sqrt(var[order])
    weights = weights[order]
    units = 2.0 * n * float(np.log(sd1))  # -2 loglik gains 2 n log(sd1) back in the sample's units
    log_n = float(np.log(n))
    return MixtureBIC(
        bic_one=float(-2.0 * n * score_one + 2 * log_n + units),
        bic_two=float(-2.0 * n * score_two + 5 * log_n + units),
        means=(float(means[0]), float(means[1])),
        sds=(float(sds[0]), float(sds[1])),
        weights=(float(weights[0]), float(weights[1])),
        n=int(n),
    )


def _initial_splits(sample: np.ndarray) -> list[np.ndarray]:
    """The two-component fit's starts, as masks of the high group: the largest gap and the
    quartiles, each once (the gap may be a quartile) and only where both groups are non-empty
    (the largest gap always has both)."""
    splits = [largest_gap_split(sample).high]
    splits += [sample > q for q in np.quantile(sample, [0.25, 0.5, 0.75])]
    unique = {high.tobytes(): high for high in splits}.values()
    return [high for high in unique if high.any() and not high.all()]


_EPS10 = 10 * np.finfo(np.float64).eps  # scikit-learn's guard on component masses


def _one_gaussian_score(z: np.ndarray, reg: float) -> float:
    """Mean log-likelihood of one Gaussian at its EM fixed point (mean, variance + ``reg``),
    which scikit-learn's one-component fit reaches after its first M step."""
    var = float(np.mean((z - z.mean()) ** 2)) + reg
    return float(-0.5 * (np.log(2 * np.pi * var) + np.mean((z - z.mean()) ** 2) / var))


def _log_joint(z: np.ndarray, w: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """log w_k + log N(z | mu_k, var_k), shape (starts, 2, n)."""
    return (np.log(w)[..., None] - 0.5 * np.log(2 * np.pi * var)[..., None]
            - 0.5 * (z[None, None, :] - mu[..., None]) ** 2 / var[..., None])


def sklearn_mixture_bic(x: object, sd_floor_fraction: float = 0.05, max_iter: int = 1000,
                        tol: float = 1e-6) -> tuple[float, float, tuple[float, float]]:
    """:func:`mixture_bic` by ``sklearn.mixture.GaussianMixture`` itself, one fit per start: the
    reference the numpy EM is checked against (``tests/stats/test_stats_mixture_em.py``) and
    timed against (``benchmarks/bench_mixture_bic.py``); returns (bic_one, bic_two, means)."""
    sample = as_sample(x, "x", min_size=4)
    centre, sd1 = float(sample.mean()), float(sample.std())
    z = ((sample - centre) / sd1)[:, None]
    floor_var = sd_floor_fraction**2
    fit = functools.partial(GaussianMixture, covariance_type="full", reg_covar=floor_var,
                            max_iter=max_iter, tol=tol, init_params="random_from_data",
                            random_state=0)
    one = fit(n_components=1).fit(z)
    fits = [fit(n_components=2, **_init_from_split(z[:, 0], h, floor_var)).fit(z)
            for h in _initial_splits(sample)]
    two = min(fits, key=lambda f: float(f.bic(z)))
    units = 2.0 * sample.size * float(np.log(sd1))
    low, high = sorted(centre + sd1 * two.means_[:, 0])
    return float(one.bic(z) + units), float(two.bic(z) + units), (float(low), float(high))


def _two_gaussian_em(z: np.ndarray, starts: list[dict[str, np.ndarray]], reg: float,
                     max_iter: int, tol: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """scikit-learn's ``GaussianMixture(2, covariance_type="full", reg_covar=reg)`` EM in one
    dimension, run from every start at once (same E and M steps, same stopping rule: the mean
    log-likelihood changes by less than ``tol``); returns the weights, means, variances and
    mean log-likelihood of the start whose final BIC is lowest (the same number of parameters
    for every start, so the highest final likelihood).

    Kept instead of calling ``GaussianMixture`` (:func:`sklearn_mixture_bic`) for speed: the
    controls and matched nulls call :func:`mixture_bic` thousands of times a run, and
    ``benchmarks/bench_mixture_bic.py`` measured this 6-23x faster per call (three runs on a
    shared 2-core machine, one thread, n = 20 and 100: 0.9-26 ms against 14-246 ms); the test
    pins that both give the same BIC."""
    w = np.array([s["weights_init"] for s in starts], dtype=float)
    mu = np.array([s["means_init"][:, 0] for s in starts], dtype=float)
    var = np.array([1.0 / s["precisions_init"][:, 0, 0] for s in starts], dtype=float)
    lower = np.full(len(starts), -np.inf)
    active = np.ones(len(starts), dtype=bool)
    for _ in range(max_iter):
        joint = _log_joint(z, w[active], mu[active], var[active])
        norm = np.logaddexp(joint[:, 0], joint[:, 1])
        resp = np.exp(joint - norm[:, None, :])
        nk = resp.sum(axis=2) + _EPS10
        m = (resp * z).sum(axis=2) / nk
        v = (resp * (z[None, None, :] - m[..., None]) ** 2).sum(axis=2) / nk + reg
        wk = nk / z.size
        w[active], mu[active], var[active] = wk / wk.sum(axis=1, keepdims=True), m, v
        bound = norm.mean(axis=1)
        done = np.abs(bound - lower[active]) < tol
        lower[active] = bound
        idx = np.flatnonzero(active)
        active[idx[done]] = False
        if not active.any():
            break
    joint = _log_joint(z, w, mu, var)
    score = np.logaddexp(joint[:, 0], joint[:, 1]).mean(axis=1)
    best = int(np.argmax(score))
    return w[best], mu[best], var[best], float(score[best])
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
