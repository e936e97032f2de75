"""C6's decision: the held-out F-score per density bin falls as memorization rises (Fig. 3).

Statistics (issue 10, item 2):

* Spearman's rho over bins, with its p-value from the permutation distribution
  (``scipy.stats.permutation_test``, pairings): exact for up to 8 bins (8! = 40320 pairings),
  Monte Carlo with 40000 permutations beyond (Monte Carlo se of a p near 0.01: 0.0005). The
  t approximation that ``scipy.stats.spearmanr`` uses is poor with 8 bins and returns p = 0
  for rho = -1, where the exact p is 1/8! = 2.5e-5. Ties (equal F-scores in several bins) are
  handled by the permutation distribution of the tied ranks.
* Bins are the units: each bin's F-score comes from its own model trained without that bin.
* What this claim can show: Feldman's memorization score is accuracy when the example is in
  the training set minus accuracy when it is held out, and a trained network fits nearly all of
  its training set, so a bin's held-out accuracy is about 1 - its memorization by definition. The
  claim therefore checks that two estimates of the same quantity (memorization trials and one
  held-out model per bin) agree in order, not an independent mechanism; the report says so.
* Power decides (issue 10, item 4): the test's power against :data:`EFFECT` at this run's
  number of bins is simulated before the verdict is read
  (:func:`modes.decisions.power_gate.power_gate`); with 8 bins an exact permutation p below
  0.01 needs rho <= -0.83 or so, so small runs can come out ``inconclusive (underpowered)``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import attrs
import numpy as np
from scipy import stats

from modes.decisions.power_gate import GATE_REPS, power_gate
from modes.decisions.segmented import as_bins, check_bins
from modes.evidence import inconclusive
from modes.stats.association import spearman
from modes.stats.claim import REPLICATED, ClaimResult, Preregistration, evaluate
from modes.stats.power import PowerEstimate, simulate_power

PREREG = Preregistration(
    claim_id="C6",
    hypothesis="Across density bins, the F-score of a model trained without the bin falls as the "
               "bin's mean memorization rises",
    paper_ref="Fig. 3",
    test="Spearman rank correlation (rho < 0) between bin-mean memorization and held-out "
         "F-score, one-sided permutation p-value (exact up to 8 bins)",
    effect_name="Spearman rho",
    effect_threshold=-0.5,
    effect_direction="less",
    kind="presence",
)

PERMUTATIONS = 40_320  # 8!: exact up to 8 bins


@attrs.frozen(eq=False)
class TrackingBins:
    """Per density bin: mean memorization and the F-score of the model trained without it."""

    memorization_mean: np.ndarray = attrs.field(converter=as_bins)
    heldout_fscore: np.ndarray = attrs.field(converter=as_bins)
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        check_bins(self)

    @classmethod
    def from_table(cls, table: Any, seed: int = 0) -> TrackingBins:
        """From a :class:`modes.experiments.density_bins.DensityBinTable`."""
        return cls(table.memorization_mean, table.heldout_fscore, seed)


def _rho(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho along ``axis`` (vectorised over permutations)."""
    rx = stats.rankdata(x, axis=axis)
    ry = stats.rankdata(y, axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    out: np.ndarray = (rx * ry).sum(axis=axis) / np.sqrt(
        (rx**2).sum(axis=axis) * (ry**2).sum(axis=axis))
    return out


def _permutation(x: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """scipy's permutation test of rho, permuting y only (n! pairings: exact when n! <=
    :data:`PERMUTATIONS`; permuting both samples would be Monte Carlo over n!^2)."""
    return stats.permutation_test((y,), lambda v, axis=-1: _rho(x, v, axis),
                                  permutation_type="pairings", vectorized=True,
                                  n_resamples=PERMUTATIONS, alternative="less",
                                  rng=np.random.default_rng(seed))


@functools.lru_cache(maxsize=16)
def _untied_null(n: int) -> np.ndarray:
    """The permutation null of rho for ``n`` untied bins: it depends on n alone (rho is a
    function of the ranks), so it is computed once per n (with seed 0 beyond 8 bins)."""
    ranks = np.arange(n, dtype=float)
    null: np.ndarray = np.sort(_permutation(ranks, ranks, 0).null_distribution)
    return null


def rank_correlation_p(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[float, float, bool]:
    """Spearman's rho, its one-sided (rho < 0) permutation p-value and whether it is exact.

    Without ties the p-value is read off the cached null of :func:`_untied_null` (scipy's
    p-value convention: exact count, or (count + 1) / (resamples + 1) for Monte Carlo), which
    keeps the controls' thousands of calls fast; with ties scipy runs on the data.
    """
    exact = math.factorial(x.size) <= PERMUTATIONS
    rho = float(_rho(x, y))
    if np.unique(x).size < x.size or np.unique(y).size < y.size:
        return rho, float(_permutation(x, y, seed).pvalue), exact
    null = _untied_null(x.size)
    count = int(np.searchsorted(null, rho + 1e-12, side="right"))  # null <= rho, with ties
    p = count / null.size if exact else (count + 1) / (null.size + 1)
    return rho, float(p), exact


EFFECT_CORRELATION = -0.9
"""C6's pre-registered effect: bin-mean memorization and held-out F-score bivariate normal with
correlation -0.9 across bins. Why: the paper reports the F-scores "in close agreement with mean
memorization scores", and by Feldman's definition the two estimate one quantity (held-out
accuracy is about 1 - memorization), so the agreement is limited only by the sampling noise of
each estimate; -0.9 is such a close but noisy agreement (Spearman's rho about -0.89). Fixed
here, not read from the run."""


def decide_fscore_tracking(inp: TrackingBins, prereg: Preregistration = PREREG) -> ClaimResult:
    """Spearman rho < 0 by a permutation test, rho beyond the threshold, power-gated against
    :data:`EFFECT_CORRELATION` at this number of bins (module docstring)."""
    result = _decide(inp, prereg)
    if not np.isfinite(result.statistic):
        return result  # fewer than 4 varying bins: inconclusive by its own rule
    return power_gate(result, _power(prereg, result.n),
                      f"{result.n} bins, against a bin-level correlation of "
                      f"{EFFECT_CORRELATION:g} between memorization and F-score")


def decide_fscore_tracking_core(inp: TrackingBins, prereg: Preregistration = PREREG
                                ) -> ClaimResult:
    """The ungated decision: the pre-registered test without the power gate. What a size
    (null) control runs, so that its false-positive rate measures the test; the gated
    :func:`decide_fscore_tracking` is what the claim reports."""
    return _decide(inp, prereg)


@functools.lru_cache(maxsize=32)
def _power(prereg: Preregistration, bins: int) -> PowerEstimate:
    """Power of the ungated decision against :data:`EFFECT_CORRELATION` with ``bins`` bins."""
    r = EFFECT_CORRELATION

    def generate(rng: np.random.Generator) -> TrackingBins:
        z, e = rng.standard_normal((2, bins))
        return TrackingBins(z, r * z + np.sqrt(1.0 - r * r) * e)

    return simulate_power(lambda b: _decide(b, prereg).verdict == REPLICATED, generate,
                          GATE_REPS, seed=0)


def _decide(inp: TrackingBins, prereg: Preregistration) -> ClaimResult:
    """The ungated decision (module docstring)."""
    x, y = inp.memorization_mean, inp.heldout_fscore
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.sum() < 4 or np.ptp(x[finite]) == 0 or np.ptp(y[finite]) == 0:
        return inconclusive(prereg, int(finite.sum()),
                            f"{int(finite.sum())} bins with finite values, memorization or "
                            "F-score constant; a rank correlation needs 4 varying bins")
    x, y = x[finite], y[finite]
    rho, p, exact = rank_correlation_p(x, y, inp.seed)
    ci = spearman(x, y, alternative="less")
    return evaluate(
        prereg, statistic=rho, p_value=p, effect_size=rho, ci=(ci.ci_low, ci.ci_high),
        n=int(x.size),
        details={"heldout_fscore": inp.heldout_fscore.tolist(),
                 "memorization_mean": inp.memorization_mean.tolist(),
                 "p_value_t_approximation": ci.p_value, "exact": exact})
