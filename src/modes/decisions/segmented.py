"""Segmented regression over density bins at the low-to-high transition (C5, C7; Fig. 3).

The paper describes per-bin means that change with density up to the transition and then behave
differently ("decreases ... up to the transition point ... an abrupt increase ..., which
subsequently remains largely independent of the class-conditional density"). The model therefore
has its own line on each side of the transition, and the jump is the gap between the two lines
at the transition (:func:`modes.stats.piecewise.piecewise_step` with separate slopes). One common
slope (the former choice below 20 bins) is the wrong model for "falling, then flat": on
noise-free data falling with slope -0.3 over 8 bins and flat after, with no jump, it reports a
jump of +0.049 against C5's threshold of 0.05; the separate-slope model reports 0.

The transition is where bins turn from mostly low- to mostly high-density classes (the midpoint
of the bin-mean log-densities of the last mostly-low and the first mostly-high bin), fixed by the
class split before the y data are looked at. Where no bin lies between those two bins, a kink of
the true curve anywhere between them and a jump cannot be told apart; the model puts the kink
at that midpoint (pre-registered).

Bin means are weighted by their inverse sampling variance (count / sd^2, from the per-bin sd
of the examples behind the mean; :func:`bin_weights`): bins differ in spread (memorization
scores are more variable in some density ranges), and OLS with unequal variances misstates the
jump's standard error (measured: 0.024 at alpha 0.01 on 8 bins whose spread grows by half from
low to high bins; 0.009 weighted; 2000 repetitions). The residual scale is still estimated
(WLS), so bin-level misfit beyond sampling noise widens the tests instead of being ignored.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from modes.stats.piecewise import PiecewiseFit, piecewise_step, transition_from_fractions
from modes.stats.student import Alternative


class NoTransition(ValueError):
    """The bins do not allow the segmented model (no transition, or too few bins on a side)."""


def bin_transition(log_density: np.ndarray, high_fraction: np.ndarray) -> float:
    """The transition on the bin-mean log-density axis, or :class:`NoTransition` saying why."""
    try:
        return transition_from_fractions(log_density, high_fraction)
    except ValueError as err:
        fractions = np.round(np.asarray(high_fraction, dtype=float), 2).tolist()
        raise NoTransition(f"no low-to-high transition across the bins ({err}; high-density "
                           f"fractions by bin {fractions})") from err


MIN_SD_EXAMPLES = 30


def bin_weights(sd: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, str]:
    """Weights of bin means and their kind: ``count / sd^2`` when every bin's sd is positive and
    rests on at least :data:`MIN_SD_EXAMPLES` examples, else ``count`` (a common spread).

    An sd from k examples has a relative error of about 1 / sqrt(2 (k - 1)) (13% at 30); with
    noisier weights the jump's t test turns liberal (measured 0.0125 at alpha 0.01 with about 18
    radii per bin over 50 bins, 10000 repetitions; 0.0088 weighting by count), while the counts
    are exact.
    """
    sd, count = np.asarray(sd, dtype=float), np.asarray(count, dtype=float)
    if np.any(count <= 0):
        raise ValueError("every bin needs at least one example")
    if np.all(np.isfinite(sd)) and np.all(sd > 0) and np.all(count >= MIN_SD_EXAMPLES):
        weights: np.ndarray = count / sd**2
        return weights, "count/sd^2"
    return count, "count"


def segmented_fit(x: np.ndarray, y: np.ndarray, transition: float, jump: Alternative,
                  slope: Alternative = "two-sided",
                  weights: np.ndarray | None = None) -> PiecewiseFit:
    """Separate lines before and after ``transition``; the jump tested against ``jump``, the
    slope before it against ``slope``. :class:`NoTransition` when a side has under 2 bins or no
    residual degree of freedom remains."""
    try:
        return piecewise_step(x, y, transition, jump_alternative=jump, slope_alternative=slope,
                              separate_slopes=True, weights=weights)
    except ValueError as err:
        raise NoTransition(f"segmented regression impossible: {err}") from err



def as_bins(value: object) -> np.ndarray:
    """A per-bin array as 1-D floats (attrs converter of the bin inputs)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"per-bin values must be 1-D, got shape {arr.shape}")
    return arr


def check_bins(instance: Any) -> None:
    """Every per-bin array of an attrs input has one length (ValueError naming them otherwise)."""
    sizes = {f.name: getattr(instance, f.name).size for f in attrs.fields(type(instance))
             if isinstance(getattr(instance, f.name), np.ndarray)}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"{type(instance).__name__}: per-bin arrays differ in length: {sizes}")
