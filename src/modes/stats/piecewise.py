"""Piecewise regression with a step at a known transition (C5, C7; Fig. 3).

Per-bin means ``y`` (memorization, certified radius, F-score, ...) against the bins' mean
log-densities ``x`` are modelled as

    y = b0 + b1 (x - t) + b2 step + b3 (x - t) step + e,   step = [x >= t],

so ``b2`` is the jump at the transition ``t`` (the difference between the two lines at ``t``),
``b1`` the slope before it and ``b1 + b3`` the slope after it. With ``separate_slopes=False``
the term ``b3`` is dropped (one common slope, one parameter fewer); that model is right only
when the slope does not change at the transition: on 8 noise-free bins that fall with slope
-0.3 and then stay flat, without a jump, it reports a jump of +0.049. The claims (C5, C7) use
separate slopes (:mod:`modes.decisions.segmented`). The transition
comes from the claim (the largest-gap threshold between low- and high-density classes), never
from the y data, so the step test is a plain OLS t-test.
"""

from __future__ import annotations

import attrs
import numpy as np
import statsmodels.api as sm

from modes.stats.split import as_sample
from modes.stats.student import Alternative, t_p_value


@attrs.frozen
class Coefficient:
    """One regression coefficient with its t statistic, p-value (for the stated alternative) and
    two-sided CI."""

    estimate: float
    se: float
    t: float
    p_value: float
    ci_low: float
    ci_high: float
    alternative: str


@attrs.frozen
class PiecewiseFit:
    """The jump at the transition, the slopes before and after it, and the fit's size."""

    jump: Coefficient
    slope_before: Coefficient
    slope_after: Coefficient | None
    transition: float
    n: int
    n_before: int
    df_resid: float
    r_squared: float


def transition_from_fractions(x: object, high_fraction: object) -> float:
    """Transition between the last bin mostly from low-density classes and the first bin mostly
    from high-density classes (midpoint of their ``x``), for bins sorted by ``x``."""
    xs = as_sample(x, "x")
    frac = as_sample(high_fraction, "high_fraction")
    if frac.shape != xs.shape:
        raise ValueError(f"high_fraction must match x's shape {xs.shape}, got {frac.shape}")
    if np.any(np.diff(xs) < 0):
        raise ValueError("x must be sorted (bins in order of density)")
    high = frac > 0.5
    if not high.any() or high.all():
        raise ValueError("bins must include both mostly-low and mostly-high bins")
    first = int(np.argmax(high))
    if first == 0:
        raise ValueError("the first bin is already mostly high-density; no transition inside")
    return float(0.5 * (xs[first - 1] + xs[first]))


def _coefficient(fit: sm.regression.linear_model.RegressionResultsWrapper, idx: int,
                 alternative: Alternative, confidence: float, contrast: np.ndarray | None = None
                 ) -> Coefficient:
    if contrast is None:
        contrast = np.zeros(len(fit.params))
        contrast[idx] = 1.0
    res = fit.t_test(contrast)
    est = float(np.squeeze(res.effect))
    se = float(np.squeeze(res.sd))
    t = float(np.squeeze(res.tvalue))
    lo, hi = np.asarray(res.conf_int(alpha=1.0 - confidence)).ravel()
    return Coefficient(estimate=est, se=se, t=t, p_value=t_p_value(t, fit.df_resid, alternative),
                       ci_low=float(lo), ci_high=float(hi), alternative=alternative)


def piecewise_step(x: object, y: object, transition: float,
                   jump_alternative: Alternative = "greater",
                   slope_alternative: Alternative = "less", separate_slopes: bool = True,
                   weights: object | None = None, confidence: float = 0.95) -> PiecewiseFit:
    """OLS (or WLS with ``weights``, e.g. bin sizes / variances) fit of the step model.

    ``jump_alternative`` is the pre-registered direction of the jump (C5: "greater", memorization
    jumps up; C7: "less", certified radius drops); ``slope_alternative`` that of the slope before
    the transition (C5: "less", memorization decreases with density among low-density bins).
    """
    xs = as_sample(x, "x")
    ys = as_sample(y, "y")
    if ys.shape != xs.shape:
        raise ValueError(f"y must match x's shape {xs.shape}, got {ys.shape}")
    if not np.isfinite(transition):
        raise ValueError(f"transition must be finite, got {transition!r}")
    step = (xs >= transition).astype(float)
    n_before = int(xs.size - step.sum())
    n_after = int(step.sum())
    need = 2 if separate_slopes else 1
    if n_before < 2 or n_after < need:
        raise ValueError(f"transition {transition!r} leaves {n_before} bins before and {n_after} "
                         f"after; need at least 2 before and {need} after")
    centred = xs - transition
    columns = [np.ones_like(xs), centred, step]
    if separate_slopes:
        columns.append(centred * step)
    design = np.column_stack(columns)
    if xs.size <= design.shape[1]:
        raise ValueError(f"{xs.size} bins cannot fit {design.shape[1]} parameters with residual "
                         "degrees of freedom; use separate_slopes=False or more bins")
    if weights is None:
        fit = sm.OLS(ys, design).fit()
    else:
        w = as_sample(weights, "weights")
        if w.shape != xs.shape or np.any(w <= 0):
            raise ValueError("weights must be positive, one per bin")
        fit = sm.WLS(ys, design, weights=w).fit()
    after = None
    if separate_slopes:
        after = _coefficient(fit, 1, "two-sided", confidence, np.array([0.0, 1.0, 0.0, 1.0]))
    return PiecewiseFit(
        jump=_coefficient(fit, 2, jump_alternative, confidence),
        slope_before=_coefficient(fit, 1, slope_alternative, confidence),
        slope_after=after,
        transition=float(transition),
        n=int(xs.size),
        n_before=n_before,
        df_resid=float(fit.df_resid),
        r_squared=float(fit.rsquared),
    )
