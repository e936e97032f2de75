"""C4's decision: high-density classes are not more compact, yet more complex (paper Fig. 2).

Statistics (issue 10, item 2):

* The split: high- and low-density classes at the largest gap of the last stage's class-mean
  log-densities (Eq. 3), as before.
* **"More complex" is tested as non-Gaussianity**, the paper's own reading ("representations of
  the high-density classes are vastly more non-Gaussian"). Eq. 4 is the KL divergence from a
  class's predictive p to the max-entropy *diagonal* Gaussian q with the class's means and
  variances. For any Gaussian G with p's mean and full covariance Sigma,
  ``KL(p || q) = KL(p || G) + KL(G || q)`` and ``KL(G || q) = TC = 0.5 (sum_j log Sigma_jj -
  log det Sigma)``, the total correlation of the class's covariance
  (:func:`modes.measures.total_correlation`, on the same points and 1/N moments as Eq. 4's q).
  So ``NG = Eq. 4 - TC = KL(p || G)``: 0 for any Gaussian class, however correlated and however
  dense (a correlated Gaussian is denser than an uncorrelated one of equal trace by exactly its
  TC, and its Eq. 4 is exactly its TC), and > 0 for a class made of separated components. The
  test: one-sided Welch t that the high-density classes' mean NG exceeds the low ones'; effect
  size the difference in pooled within-group sds (threshold 0.8, Cohen's "large", for a
  difference the paper calls "vast").
* Why Welch and not Mann-Whitney: the effect is a shift of a class-level KL estimate, an average
  over thousands of Monte Carlo draws, close to normal within a group; Welch allows the
  multi-component group its larger spread, gives the effect in nats with a CI, is the test of
  the compactness half, and is cheap in the power gate's loop. Its size at alpha is checked by
  the controls (:mod:`modes.decisions.controls`, correlated-Gaussian nulls).
* Alternatives considered:

  - the former ANCOVA of Eq. 4 on the split with the class-mean log-density as covariate (the
    "relative entropy beyond density"). Since ``Eq. 4 = E_p[log p] + sum_j log sd_j +
    (d/2) log(2 pi e)``, its residual at equal density tests only ``sum_j log sd_j``, i.e.
    compactness again; on a world whose high-density classes are compact separated components
    with the same marginal variances as the others it is 0 by construction, so C4 could never
    replicate there. It is kept in the details as information (``ancova_coefficient``, "RE beyond
    density");
  - branch ``power``'s one-sided Mann-Whitney of ``Eq. 4 - mean log p`` (the identity's
    coefficient fixed at 1): the same quantity, ``sum_j log sd_j`` plus estimation noise, so the
    same blindness.

  NG removes from Eq. 4 exactly what second moments explain (marginal scales and correlations)
  and nothing the density's structure beyond them contributes, which is the part of
  "non-Gaussian" the density split does not imply.
* "Not more compact" is an equivalence statement, tested as one (not accepted on a
  non-significant test): one-sided Welch t test on log mean intra-class distances that the high
  classes' distance is more than :data:`COMPACT_MARGIN` (0.8) times the low classes' (the usual
  80-125% equivalence margin for ratios of means); rejecting its null shows the high classes are
  at most 20% more compact.
* Both parts combine by intersection-union (:mod:`modes.decisions.conjunction`): the claim's
  p-value is the larger of the two one-sided p-values.
* Power decides (issue 10, item 4): the decision's power against :data:`EFFECT` at this run's
  numbers of classes on each side of the split, separation of the two groups' class means, ratio
  of the groups' NG sds and class-level spread of the distances is simulated before the verdict
  is read (:func:`modes.decisions.power_gate.power_gate`).
"""

from __future__ import annotations

import functools

import attrs
import numpy as np
from scipy import stats

from modes.decisions.conjunction import Condition, condition_details, intersection_union
from modes.decisions.power_gate import GATE_REPS, power_gate, round_up
from modes.evidence import inconclusive, per_class
from modes.stats.claim import REPLICATED, ClaimResult, Preregistration, evaluate
from modes.stats.modality import class_means
from modes.stats.power import PowerEstimate, simulate_power
from modes.stats.split import largest_gap_split

COMPACT_MARGIN = 0.8

PREREG = Preregistration(
    claim_id="C4",
    hypothesis="At the last stage, high-density classes are more non-Gaussian (Eq. 4's relative "
               "entropy minus the total correlation of the class covariance, i.e. KL from the "
               "Gaussian with the class's full covariance) than low-density classes, while their "
               "mean intra-class distance is not smaller",
    paper_ref="Fig. 2",
    test="one-sided Welch t test over classes, non-Gaussianity high > low; equivalence: "
         "one-sided Welch t test on log mean intra-class distance, high - low > log 0.8; "
         "intersection-union of the two",
    effect_name="difference in mean non-Gaussianity (high - low), in pooled within-group sds",
    effect_threshold=0.8,
    effect_direction="greater",
    kind="presence",
)


def _floats(value: object) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


@attrs.frozen(eq=False)
class ComplexityInput:
    """Last-stage per-example log-densities and, per class, Eq. 4, the mean intra-class distance
    and the total correlation of the class covariance (:func:`modes.measures.total_correlation`,
    on the points Eq. 4's q is built from)."""

    log_density: np.ndarray = attrs.field(converter=_floats)
    labels: np.ndarray
    relative_entropy: np.ndarray = attrs.field(converter=_floats)
    mean_distance: np.ndarray = attrs.field(converter=_floats)
    total_correlation: np.ndarray = attrs.field(converter=_floats)

    def __attrs_post_init__(self) -> None:
        if np.shape(self.log_density) != np.shape(self.labels):
            raise ValueError(f"{np.shape(self.log_density)} log-densities for "
                             f"{np.shape(self.labels)} labels")
        classes = int(np.unique(self.labels).size)
        for name in ("relative_entropy", "mean_distance", "total_correlation"):
            if np.shape(getattr(self, name)) != (classes,):
                raise ValueError(f"{name} must hold one value per class ({classes}), got shape "
                                 f"{np.shape(getattr(self, name))}")

    @property
    def class_means(self) -> np.ndarray:
        return class_means(per_class(self.log_density, self.labels))

    @property
    def non_gaussianity(self) -> np.ndarray:
        """Per class, Eq. 4 minus the total correlation: KL from the class's full-covariance
        Gaussian (module docstring)."""
        return np.asarray(self.relative_entropy - self.total_correlation)


@attrs.frozen
class ComplexityEffect:
    """Mean non-Gaussianity ``shift`` pooled within-group sds higher in the high group;
    distances equal between the groups (ratio 1)."""

    shift: float = 3.0


EFFECT = ComplexityEffect()
"""C4's pre-registered effect: the high-density classes' mean non-Gaussianity 3 pooled
within-group sds above the low ones', with mean intra-class distances equal between the groups
(the paper's "not more compact"). Why 3: Fig. 2 shows the two groups' complexities as two
barely overlapping clouds ("vastly larger complexity", "vastly more non-Gaussian"); a shift of
3 sds leaves the groups overlapping by about 13% (2 Phi(-1.5)), "vast" read conservatively, and
far enough beyond the 0.8 effect threshold that a test which can see it also clears the
threshold. In sds, not nats, because NG's scale grows with the dimension and the number of
components and has no fixed value across datasets and SVD sizes. The design numbers (classes per
side, the groups' separation in within-group sds, the ratio of the groups' NG sds, the
distances' class-level spread) are the run's own, rounded up. Fixed here, never read from the
run's relative entropies or from another claim."""


def decide_complexity(inp: ComplexityInput, prereg: Preregistration = PREREG) -> ClaimResult:
    """Non-Gaussianity higher in the high-density classes and equivalence of compactness at
    alpha, power-gated against :data:`EFFECT` (module docstring)."""
    result = decide_complexity_core(inp, prereg)
    if not np.isfinite(result.statistic):
        return result  # too few classes on a side, or NG undefined: inconclusive by its rule
    means = inp.class_means
    high = largest_gap_split(means).high
    n_high, n_low = int(high.sum()), int((~high).sum())
    gap = round_up(_separation(means, high))
    ng = inp.non_gaussianity
    ratio = round_up(min(max(_sd(ng[high]) / max(_sd(ng[~high]), 1e-12), 1 / 8), 8.0))
    spread = round_up(max(_pooled_sd(np.log(inp.mean_distance), high), 1e-3))
    return power_gate(result, _power(prereg, n_high, n_low, gap, ratio, spread),
                      f"{n_high} high- and {n_low} low-density classes {gap:.3g} within-group "
                      f"sds apart (NG sd ratio high/low {ratio:.3g}, log distance sd "
                      f"{spread:.3g}), against non-Gaussianity {EFFECT.shift:g} pooled sds "
                      "higher and equal distances")


def decide_complexity_core(inp: ComplexityInput, prereg: Preregistration = PREREG
                           ) -> ClaimResult:
    """The ungated decision: the pre-registered test without the power gate. What a size
    (null) control runs, so that its false-positive rate measures the test; the gated
    :func:`decide_complexity` is what the claim reports. The ANCOVA of Eq. 4 on the split
    at equal mean log-density is computed for the details only."""
    means = inp.class_means
    result = _decide(means, inp.non_gaussianity, inp.mean_distance, prereg)
    if not np.isfinite(result.statistic):
        return result
    high = largest_gap_split(means).high
    fit = ancova(inp.relative_entropy, high, means)
    t = fit.coef / fit.se if fit.se > 0 else float("nan")
    beyond = {"ancova_coefficient": fit.coef, "ancova_se": fit.se,
              "ancova_p": float(stats.t.sf(t, fit.df)) if np.isfinite(t) else float("nan"),
              "ancova_slope_log_density": fit.slope,
              "relative_entropy_high_mean": float(np.mean(inp.relative_entropy[high])),
              "relative_entropy_low_mean": float(np.mean(inp.relative_entropy[~high])),
              "total_correlation_high_mean": float(np.mean(inp.total_correlation[high])),
              "total_correlation_low_mean": float(np.mean(inp.total_correlation[~high]))}
    return attrs.evolve(result, details={**result.details, "re_beyond_density": beyond})


@attrs.frozen
class Ancova:
    """The ``high`` coefficient of ``y ~ 1 + high + x``, its standard error, the residual
    degrees of freedom, the slope on ``x`` and the residual sd sqrt(RSS / df)."""

    coef: float
    se: float
    df: float
    slope: float
    resid_sd: float


def ancova(y: np.ndarray, high: np.ndarray, x: np.ndarray) -> Ancova:
    """OLS of ``y`` on an intercept, the ``high`` indicator and ``x``.

    Hand-written (numpy least squares) rather than statsmodels' OLS, which costs about 1 ms of
    set-up per fit: the power gate fits hundreds of simulated designs per claim. The numbers
    equal statsmodels' (``tests/decisions/test_decide_complexity.py``)."""
    design = np.column_stack([np.ones(x.size), high.astype(float), x - x.mean()])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    df = x.size - design.shape[1]
    rss = float(np.sum((y - design @ beta) ** 2))
    unit = float(np.sqrt(np.linalg.inv(design.T @ design)[1, 1]))
    resid_sd = float(np.sqrt(rss / df))
    return Ancova(float(beta[1]), unit * resid_sd, float(df), float(beta[2]), resid_sd)


def welch_greater(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Welch's t and one-sided p (mean of ``a`` > mean of ``b``); p 1 where undefined.

    Hand-written because ``scipy.stats.ttest_ind`` spends about 1.5 ms on argument handling
    per call and the power gate calls it hundreds of times; the numbers equal scipy's
    (``tests/decisions/test_decide_complexity.py``)."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = float(np.sqrt(va + vb))
    if not se > 0:
        return float("nan"), 1.0
    t = float((a.mean() - b.mean()) / se)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    return t, float(stats.t.sf(t, df))


def _pooled_sd(values: np.ndarray, high: np.ndarray) -> float:
    a, b = values[high], values[~high]
    ss = ((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()
    return float(np.sqrt(ss / (values.size - 2)))


def _separation(means: np.ndarray, high: np.ndarray) -> float:
    """The groups' difference of class means in pooled within-group sds."""
    within = _pooled_sd(means, high)
    gap = float(means[high].mean() - means[~high].mean())
    return gap / within if within > 0 else 1e6


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if values.size > 1 else 0.0


@functools.lru_cache(maxsize=256)
def _power(prereg: Preregistration, n_high: int, n_low: int, gap: float, ratio: float,
           spread: float) -> PowerEstimate:
    """Power of the ungated decision against :data:`EFFECT` at this design, seeded: class means
    N(0, 1) and N(gap, 1); NG N(0, 1) in the low group and N(shift x pooled sd, ratio) in the
    high group; log distances N(log 10, spread) in both groups (one value per class: the
    decision reads class means)."""
    high = np.arange(n_high + n_low) < n_high
    pooled = float(np.sqrt(((n_high - 1) * ratio**2 + (n_low - 1)) / (high.size - 2)))

    def generate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        means = rng.standard_normal(high.size) + gap * high
        ng = rng.standard_normal(high.size) * np.where(high, ratio, 1.0)
        ng += EFFECT.shift * pooled * high
        dist = np.exp(np.log(10.0) + spread * rng.standard_normal(high.size))
        return means, ng, dist

    return simulate_power(lambda x: _decide(*x, prereg).verdict == REPLICATED, generate,
                          GATE_REPS, seed=0)


def _decide(means: np.ndarray, ng: np.ndarray, dist: np.ndarray,
            prereg: Preregistration) -> ClaimResult:
    """The ungated decision on class means, non-Gaussianities and distances."""
    high = largest_gap_split(means).high
    n_high, n_low = int(high.sum()), int((~high).sum())
    if min(n_high, n_low) < 2:
        return inconclusive(prereg, len(means),
                            f"the largest gap leaves {n_high} high- and {n_low} low-density "
                            "classes; each side needs 2")
    if not np.all(np.isfinite(ng)):
        bad = np.flatnonzero(~np.isfinite(ng)).tolist()
        return inconclusive(prereg, len(means),
                            f"non-Gaussianity undefined for class index(es) {bad[:10]}: the "
                            "total correlation needs more points than dimensions")
    t, p_complex = welch_greater(ng[high], ng[~high])
    diff = float(ng[high].mean() - ng[~high].mean())
    pooled = _pooled_sd(ng, high)
    va, vb = ng[high].var(ddof=1) / n_high, ng[~high].var(ddof=1) / n_low
    se = float(np.sqrt(va + vb))
    df = float((va + vb) ** 2 / (va**2 / (n_high - 1) + vb**2 / (n_low - 1))) if se > 0 else 1.0
    q = float(stats.t.ppf(0.975, df))
    nan = float("nan")
    effect = diff / pooled if pooled > 0 else nan
    ci = ((diff - q * se) / pooled, (diff + q * se) / pooled) if pooled > 0 else (nan, nan)
    log_dist = np.log(dist)
    welch_t, p_equiv = welch_greater(log_dist[high] - np.log(COMPACT_MARGIN), log_dist[~high])
    ratio = float(np.exp(log_dist[high].mean() - log_dist[~high].mean()))
    conditions = [
        Condition("non-Gaussianity higher in the high-density classes", t, p_complex,
                  f"difference {diff:.3g} nats ({effect:.3g} pooled sds), se {se:.3g}, "
                  f"{df:.3g} df"),
        Condition(f"high classes not more compact (distance ratio > {COMPACT_MARGIN:g})",
                  welch_t, p_equiv,
                  f"geometric-mean distance ratio high/low {ratio:.3g}"),
    ]
    p, failed = intersection_union(conditions, prereg.alpha)
    return evaluate(
        prereg, statistic=t, p_value=p, effect_size=effect, ci=ci, n=int(means.size),
        note=failed,
        details={
            "n_high": n_high, "n_low": n_low,
            "conditions": condition_details(conditions),
            "non_gaussianity_high_mean": float(np.mean(ng[high])),
            "non_gaussianity_low_mean": float(np.mean(ng[~high])),
            "non_gaussianity_difference": diff,
            "distance_high_mean": float(np.mean(dist[high])),
            "distance_low_mean": float(np.mean(dist[~high])),
            "distance_ratio": ratio, "compact_margin": COMPACT_MARGIN,
            "equivalence_p": p_equiv, "complexity_p": p_complex,
        },
    )
