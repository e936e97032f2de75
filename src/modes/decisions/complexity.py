"""C4's decision: high-density classes are not more compact, yet more complex (paper Fig. 2).

Statistics (issue 10, item 2):

* The split: high- and low-density classes at the largest gap of the last stage's class-mean
  log-densities (Eq. 3), as before.
* "More complex" is tested on the part of relative entropy that the density split does not
  already imply. Eq. 4 measures complexity as the KL divergence from a class's predictive density
  p to the diagonal Gaussian q with the class's means and variances, and
  ``KL(p || q) = E_p[log p] - E_p[log q] = E_p[log p] + sum_d log sd_d + (D/2) log(2 pi e)``:
  relative entropy is the mean log-density plus the Gaussian's entropy. High-density classes are
  *chosen* for their larger mean log-density, so their larger relative entropy follows
  mechanically unless their Gaussian entropy is smaller by as much; comparing relative entropy
  between the groups alone (the former Mann-Whitney test) tests the split again. The test is
  therefore an analysis of covariance over classes: ``relative entropy ~ 1 + high + class-mean
  log-density`` (OLS, statsmodels), one-sided t test that the coefficient of ``high`` is > 0.
  That coefficient is the difference in relative entropy between the groups at equal mean
  log-density, i.e. what the split adds beyond the density itself. Its effect size is the
  coefficient in residual sds (an adjusted standardized difference) and must reach 0.8, the
  conventional "large" effect (Cohen 1988), for a difference the paper calls "vastly larger".
  With two well-separated modes the covariate and the split are nearly collinear, so this test
  is weak with few classes; the power gate says when.
* "Not more compact" is an equivalence statement, tested as one (not accepted on a
  non-significant test): one-sided Welch t test on log mean intra-class distances that the high
  classes' distance is more than :data:`COMPACT_MARGIN` (0.8) times the low classes' (the usual
  80-125% equivalence margin for ratios of means); rejecting its null shows the high classes are
  at most 20% more compact.
* Both parts combine by intersection-union (:mod:`modes.decisions.conjunction`): the claim's
  p-value is the larger of the two one-sided p-values.
* Power decides (issue 10, item 4): the decision's power against :data:`EFFECT` at this run's
  numbers of classes on each side of the split, separation of the two groups' class means and
  class-level spread of the distances is simulated before the verdict is read
  (:func:`modes.decisions.power_gate.power_gate`).
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
    hypothesis="At the last stage, high-density classes have larger relative entropy (Eq. 4, "
               "from the max-entropy diagonal Gaussian) than low-density classes beyond what "
               "their mean log-density implies, while their mean intra-class distance is not "
               "smaller",
    paper_ref="Fig. 2",
    test="ANCOVA over classes, relative entropy ~ 1 + high + class-mean log-density, one-sided "
         "t test of the high coefficient (> 0); equivalence: one-sided Welch t test on log "
         "mean intra-class distance, high - low > log 0.8; intersection-union of the two",
    effect_name="high-density coefficient of relative entropy at equal mean log-density, in "
                "residual sds",
    effect_threshold=0.8,
    effect_direction="greater",
    kind="presence",
)


@attrs.frozen(eq=False)
class ComplexityInput:
    """Last-stage per-example log-densities and per-class Eq. 4 and mean intra-class distance."""

    log_density: np.ndarray
    labels: np.ndarray
    relative_entropy: np.ndarray
    mean_distance: np.ndarray

    @property
    def class_means(self) -> np.ndarray:
        return class_means(per_class(self.log_density, self.labels))


@attrs.frozen
class ComplexityEffect:
    """Relative entropy ``entropy_shift`` residual sds higher in the high group at equal mean
    log-density; distances equal between the groups (ratio 1)."""

    entropy_shift: float = 3.0


EFFECT = ComplexityEffect()
"""C4's pre-registered effect: the high-density classes' relative entropy 3 residual sds above
what their mean log-density implies ("vastly larger complexity", Fig. 2: well beyond the 0.8
threshold), with mean intra-class distances equal between the groups (the paper's "not more
compact"). The design numbers (classes per side, the groups' separation in within-group sds,
the distances' class-level spread) are the run's own, rounded up. Fixed here, never read from
the run's relative entropies."""


def decide_complexity(inp: ComplexityInput, prereg: Preregistration = PREREG) -> ClaimResult:
    """Relative entropy beyond density (ANCOVA) and equivalence of compactness at alpha,
    power-gated against :data:`EFFECT` (module docstring)."""
    means = inp.class_means
    result = _decide(means, inp.relative_entropy, inp.mean_distance, prereg)
    if not np.isfinite(result.statistic):
        return result  # too few classes on a side: inconclusive by its own rule
    high = largest_gap_split(means).high
    n_high, n_low = int(high.sum()), int((~high).sum())
    gap = round_up(_separation(means, high))
    spread = round_up(max(_pooled_sd(np.log(inp.mean_distance), high), 1e-3))
    return power_gate(result, _power(prereg, n_high, n_low, gap, spread),
                      f"{n_high} high- and {n_low} low-density classes {gap:.3g} within-group "
                      f"sds apart (log distance sd {spread:.3g}), against relative entropy "
                      f"{EFFECT.entropy_shift:g} residual sds higher at equal density and equal "
                      "distances")


def decide_complexity_core(inp: ComplexityInput, prereg: Preregistration = PREREG
                           ) -> ClaimResult:
    """The ungated decision: the pre-registered test without the power gate. What a size
    (null) control runs, so that its false-positive rate measures the test; the gated
    :func:`decide_complexity` is what the claim reports."""
    return _decide(inp.class_means, inp.relative_entropy, inp.mean_distance, prereg)


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


@functools.lru_cache(maxsize=256)
def _power(prereg: Preregistration, n_high: int, n_low: int, gap: float,
           spread: float) -> PowerEstimate:
    """Power of the ungated decision against :data:`EFFECT` at this design, seeded: class means
    N(0, 1) and N(gap, 1), relative entropy N(0, 1) plus the shift for the high classes, log
    distances N(log 10, spread) in both groups (one value per class: the decision reads class
    means)."""
    high = np.arange(n_high + n_low) < n_high

    def generate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        means = rng.standard_normal(high.size) + gap * high
        rel = rng.standard_normal(high.size) + EFFECT.entropy_shift * high
        dist = np.exp(np.log(10.0) + spread * rng.standard_normal(high.size))
        return means, rel, dist

    return simulate_power(lambda x: _decide(*x, prereg).verdict == REPLICATED, generate,
                          GATE_REPS, seed=0)


def _decide(means: np.ndarray, rel: np.ndarray, dist: np.ndarray,
            prereg: Preregistration) -> ClaimResult:
    """The ungated decision on class means, relative entropies and distances."""
    high = largest_gap_split(means).high
    n_high, n_low = int(high.sum()), int((~high).sum())
    if min(n_high, n_low) < 2 or means.size < 5:
        return inconclusive(prereg, len(means),
                            f"the largest gap leaves {n_high} high- and {n_low} low-density "
                            "classes; each side needs 2 and the covariance analysis 5 classes")
    fit = ancova(rel, high, means)
    coef, se, df, slope = fit.coef, fit.se, fit.df, fit.slope
    t = coef / se if se > 0 else float("inf") * np.sign(coef)
    p_complex = float(stats.t.sf(t, df))
    resid_sd = fit.resid_sd
    q = float(stats.t.ppf(0.975, df))
    effect = coef / resid_sd if resid_sd > 0 else float("nan")
    ci = ((coef - q * se) / resid_sd, (coef + q * se) / resid_sd) if resid_sd > 0 else (
        float("nan"), float("nan"))
    log_dist = np.log(dist)
    welch_t, p_equiv = welch_greater(log_dist[high] - np.log(COMPACT_MARGIN), log_dist[~high])
    ratio = float(np.exp(log_dist[high].mean() - log_dist[~high].mean()))
    conditions = [
        Condition("relative entropy higher at equal mean log-density", t, p_complex,
                  f"coefficient {coef:.3g} nats ({effect:.3g} residual sds), se {se:.3g}, "
                  f"{df:g} df"),
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
            "relative_entropy_high_mean": float(np.mean(rel[high])),
            "relative_entropy_low_mean": float(np.mean(rel[~high])),
            "ancova_coefficient": coef, "ancova_slope_log_density": slope,
            "distance_high_mean": float(np.mean(dist[high])),
            "distance_low_mean": float(np.mean(dist[~high])),
            "distance_ratio": ratio, "compact_margin": COMPACT_MARGIN,
            "equivalence_p": p_equiv, "complexity_p": p_complex,
        },
    )
