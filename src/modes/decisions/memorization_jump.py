"""C5's decision: memorization falls with density, then jumps up at the transition (Fig. 3).

Statistics (issue 10, item 2):

* Separate lines on each side of the transition (:mod:`modes.decisions.segmented`), at every
  number of bins: with one common slope, data that fall and then flatten without a jump give a
  spurious jump (+0.049 against the 0.05 threshold on 8 noise-free bins).
* Both parts of the claim are tested at alpha and combined by intersection-union
  (:mod:`modes.decisions.conjunction`): the one-sided t test of the jump (> 0) and the one-sided
  t test of the slope before the transition (< 0). The claim's p-value is the larger one.
* "Subsequently remains largely independent of the class-conditional density": the slope after
  the transition is reported with its CI but not required, since the paper fixes no bound for
  "largely" and a pre-registered bound would be invented here.
* Bin means are weighted by count / sd^2 of the memorization scores behind them
  (:func:`~modes.decisions.segmented.bin_weights`).
* Power decides (issue 10, item 4): the decision's power against :data:`EFFECT` on this run's
  own bin axis, counts and memorization noise is simulated before the verdict is read
  (:func:`modes.decisions.power_gate.power_gate`); under 0.8 (exact lower bound) the verdict is
  ``inconclusive (underpowered: ...)``.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
import numpy as np

from modes.decisions.conjunction import Condition, condition_details, intersection_union
from modes.decisions.power_gate import GATE_REPS, design_key, power_gate, round_up
from modes.decisions.segmented import (
    NoTransition,
    as_bins,
    bin_transition,
    bin_weights,
    check_bins,
    segmented_fit,
)
from modes.evidence import inconclusive
from modes.stats.claim import REPLICATED, ClaimResult, Preregistration, evaluate
from modes.stats.power import PowerEstimate, simulate_power

PREREG = Preregistration(
    claim_id="C5",
    hypothesis="Across density bins, mean memorization jumps up at the transition from low- to "
               "high-density classes, after decreasing with density among low-density bins",
    paper_ref="Fig. 3",
    test="segmented WLS of bin-mean memorization on bin-mean log-density (weights count/sd^2, "
         "or count below 30 per bin) with separate lines before and after the transition; "
         "intersection-union of the one-sided t tests of the jump (> 0) and of the slope "
         "before the transition (< 0)",
    effect_name="jump in mean memorization score",
    effect_threshold=0.05,
    effect_direction="greater",
    kind="presence",
)


@attrs.frozen(eq=False)
class MemorizationBins:
    """Per density bin (ascending): mean log-density, high-density-class fraction, and the
    mean, sd and count of the memorization scores in the bin."""

    log_density: np.ndarray = attrs.field(converter=as_bins)
    high_fraction: np.ndarray = attrs.field(converter=as_bins)
    memorization_mean: np.ndarray = attrs.field(converter=as_bins)
    memorization_sd: np.ndarray = attrs.field(converter=as_bins)
    count: np.ndarray = attrs.field(converter=as_bins)

    def __attrs_post_init__(self) -> None:
        check_bins(self)

    @classmethod
    def from_table(cls, table: Any) -> MemorizationBins:
        """From a :class:`modes.experiments.density_bins.DensityBinTable`."""
        return cls(table.log_density_mean, table.high_fraction, table.memorization_mean,
                   table.memorization_sd, table.count)


@attrs.frozen
class JumpEffect:
    """A falling-then-jumping memorization curve: mean memorization falls by ``fall`` from the
    first bin to the transition (linearly in bin-mean log-density), jumps by ``jump`` there and
    is flat after it."""

    jump: float = 0.15
    fall: float = 0.1


EFFECT = JumpEffect()
"""C5's pre-registered effect: a jump of 0.15 (three times the claim's 0.05 threshold, so that
a test that sees it also clears the threshold; the paper calls the increase "abrupt") after a
fall of 0.1 over the low-density bins (memorization scores live in [0, 1], and "decreases ... up
to the transition" is a visible trend in Fig. 3, not a slope of a few thousandths). The fall is
set in memorization units over the run's own low-density range, not per nat, because the
log-density axis has no fixed scale across datasets and SVD sizes. Fixed here, never read from
the run's fit."""
LEVEL = 0.1  # memorization at the transition in the simulation (the tests do not depend on it)


def decide_memorization_jump(inp: MemorizationBins, prereg: Preregistration = PREREG
                             ) -> ClaimResult:
    """Jump up at the transition and falling slope before it, both at alpha, power-gated
    against :data:`EFFECT` (module docstring)."""
    result = _decide(inp, prereg)
    if "transition" not in result.details:
        return result  # no segmented model, inconclusive by its own rule
    finite = np.isfinite(inp.memorization_sd) & (inp.memorization_sd > 0)
    if not finite.any():
        return inconclusive(prereg, inp.log_density.size,
                            "no bin has a positive memorization sd: the power of the test "
                            "cannot be simulated")
    pooled = float(np.sqrt(np.sum(inp.count[finite] * inp.memorization_sd[finite] ** 2)
                           / np.sum(inp.count[finite])))
    sd = round_up(pooled)
    estimate = _power(prereg, design_key(inp.log_density), design_key(inp.high_fraction),
                      design_key(inp.count, 0), sd)
    return power_gate(result, estimate,
                      f"{inp.log_density.size} bins of {int(inp.count.min())}-"
                      f"{int(inp.count.max())} examples (memorization sd {sd:.3g}), against a "
                      f"jump of {EFFECT.jump:g} after a fall of {EFFECT.fall:g} over the "
                      f"low-density bins")


def decide_memorization_jump_core(inp: MemorizationBins, prereg: Preregistration = PREREG
                                  ) -> ClaimResult:
    """The ungated decision: the pre-registered test without the power gate. What a size
    (null) control runs, so that its false-positive rate measures the test; the gated
    :func:`decide_memorization_jump` is what the claim reports."""
    return _decide(inp, prereg)


@functools.lru_cache(maxsize=32)
def _power(prereg: Preregistration, x: tuple[float, ...], frac: tuple[float, ...],
           count: tuple[float, ...], sd: float) -> PowerEstimate:
    """Power of the ungated decision against :data:`EFFECT` on this bin design, seeded."""
    from modes.decisions import planted  # planted builds this module's input type

    xa, fa, ca = np.asarray(x), np.asarray(frac), np.asarray(count)
    t = bin_transition(xa, fa)
    slope = -EFFECT.fall / (t - xa[0])
    return simulate_power(
        lambda b: _decide(b, prereg).verdict == REPLICATED,
        lambda rng: planted.memorization_on(rng, xa, fa, ca, np.full(xa.size, sd), LEVEL,
                                            slope, EFFECT.jump, 0.0),
        GATE_REPS, seed=0)


def _decide(inp: MemorizationBins, prereg: Preregistration) -> ClaimResult:
    """The ungated decision (module docstring)."""
    bins = inp.log_density.size
    weights, weighting = bin_weights(inp.memorization_sd, inp.count)
    try:
        transition = bin_transition(inp.log_density, inp.high_fraction)
        fit = segmented_fit(inp.log_density, inp.memorization_mean, transition, jump="greater",
                            slope="less", weights=weights)
    except NoTransition as err:
        return inconclusive(prereg, bins, str(err))
    jump, before, after = fit.jump, fit.slope_before, fit.slope_after
    assert after is not None  # separate slopes
    conditions = [
        Condition("jump up at the transition", jump.t, jump.p_value,
                  f"jump {jump.estimate:.3g}, 95% CI [{jump.ci_low:.3g}, {jump.ci_high:.3g}]"),
        Condition("memorization falls before the transition", before.t, before.p_value,
                  f"slope {before.estimate:.3g}, 95% CI [{before.ci_low:.3g}, "
                  f"{before.ci_high:.3g}]"),
    ]
    p, failed = intersection_union(conditions, prereg.alpha)
    return evaluate(
        prereg, statistic=jump.t, p_value=p, effect_size=jump.estimate,
        ci=(jump.ci_low, jump.ci_high), n=fit.n, note=failed,
        details={"transition": transition, "bins_before": fit.n_before,
                 "conditions": condition_details(conditions),
                 "jump_p": jump.p_value, "slope_before": before.estimate,
                 "slope_before_p": before.p_value, "slope_after": after.estimate,
                 "slope_after_ci": [after.ci_low, after.ci_high], "r_squared": fit.r_squared,
                 "weights": weighting,
                 "memorization_mean": inp.memorization_mean.tolist(),
                 "high_fraction": inp.high_fraction.tolist()})
