"""C7's decision: robustness drops at the transition to high-density classes (Fig. 3).

Statistics (issue 10, item 2):

* Certified radius and smoothed F-score each get separate lines before and after the transition
  (:mod:`modes.decisions.segmented`); the drop is the gap between the lines at the transition,
  tested one-sided (< 0). With one common slope, a radius that falls and then flattens reads as
  a drop that is not there.
* Abstentions are counted once. A certified radius exists only where CERTIFY answered, so a bin's
  mean radius is over its answered inputs and the bin is weighted by their number
  (:func:`~modes.decisions.segmented.bin_weights`: answered / sd^2). A bin with fewer than 2
  answers has no radius sd and leaves the radius fit; a bin where CERTIFY always abstained used
  to enter it as radius 0 through ``nan_to_num``, counting its abstentions a second time.
  Abstention itself is the third part of the claim, and the smoothed F-score counts an
  abstention as a wrong answer, as the paper's F-score of the smoothed classifier does.
* "Slightly more likely to abstain in high-density classes" is tested, not read off the means:
  Welch's t test (scipy) of the per-bin abstention rates, bins after vs before the transition,
  one-sided (greater). Bins are the units because each bin has its own smoothed classifier
  (trained without it), so inputs of one bin share that model; Welch because abstention rates
  near different levels have different binomial variances.
* The three parts are combined by intersection-union (:mod:`modes.decisions.conjunction`): the
  claim's p-value is the largest of the three one-sided p-values.
* Power decides (issue 10, item 4): the decision's power against :data:`EFFECT` on this run's
  bin axis, certified inputs per bin, abstention before the transition and radius sd is
  simulated before the verdict is read (:func:`modes.decisions.power_gate.power_gate`).
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
import numpy as np
from scipy import stats

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
    claim_id="C7",
    hypothesis="Mean certified radius (randomized smoothing, CERTIFY) drops at the transition "
               "from low- to high-density bins; the smoothed F-score drops too and abstention "
               "is higher in high-density bins",
    paper_ref="Fig. 3",
    test="segmented regression (separate lines before and after the transition) of bin-mean "
         "certified radius (WLS over bins with answers, weights answered/sd^2, or answered "
         "below 30 per bin) and of smoothed F-score on bin-mean log-density, one-sided t tests "
         "of negative jumps; Welch t test of per-bin abstention rate, after > before; "
         "intersection-union of the three",
    effect_name="jump in mean certified radius",
    effect_threshold=-0.02,
    effect_direction="less",
    kind="presence",
)


@attrs.frozen(eq=False)
class RobustnessBins:
    """Per density bin (ascending): mean log-density, high-density fraction, mean and sd of the
    certified radius over inputs where CERTIFY answered (NaN where it always abstained), inputs
    certified, share answered, and the smoothed classifier's F-score (abstain = wrong)."""

    log_density: np.ndarray = attrs.field(converter=as_bins)
    high_fraction: np.ndarray = attrs.field(converter=as_bins)
    radius_mean: np.ndarray = attrs.field(converter=as_bins)
    radius_sd: np.ndarray = attrs.field(converter=as_bins)
    certified_count: np.ndarray = attrs.field(converter=as_bins)
    non_abstain_rate: np.ndarray = attrs.field(converter=as_bins)
    smoothed_fscore: np.ndarray = attrs.field(converter=as_bins)

    def __attrs_post_init__(self) -> None:
        check_bins(self)
        if np.any(self.certified_count < 1) or np.any((self.non_abstain_rate < 0)
                                                       | (self.non_abstain_rate > 1)):
            raise ValueError("every bin needs certified inputs and a non-abstain rate in [0, 1]")

    @classmethod
    def from_table(cls, table: Any) -> RobustnessBins:
        """From a :class:`modes.experiments.density_bins.DensityBinTable`."""
        return cls(table.log_density_mean, table.high_fraction, table.radius_mean,
                   table.radius_sd, table.certified_count, table.non_abstain_rate,
                   table.smoothed_fscore)

    @property
    def answered(self) -> np.ndarray:
        """Inputs per bin on which CERTIFY returned a radius."""
        out: np.ndarray = np.rint(self.certified_count * self.non_abstain_rate)
        return out


def _jump_condition(name: str, fit: Any) -> Condition:
    j = fit.jump
    return Condition(name, j.t, j.p_value,
                     f"jump {j.estimate:.3g}, 95% CI [{j.ci_low:.3g}, {j.ci_high:.3g}]")


@attrs.frozen
class DropEffect:
    """Drops at the transition (flat lines on each side): ``radius`` in the certified radius,
    ``fscore`` in the smoothed F-score, and abstention up by ``abstention``."""

    radius: float = -0.1
    fscore: float = -0.1
    abstention: float = 0.15


EFFECT = DropEffect()
"""C7's pre-registered effect. Radius -0.1: five times the claim's -0.02 threshold (a test
that sees it clears the threshold) and a fifth of the smoothing noise sigma 0.5 of the
profiles, an "abrupt decrease" on Fig. 3's scale; F-score -0.1: ten points of F-score; abstention
+0.15: "slightly more likely to abstain" (Cohen et al.'s CERTIFY abstains on a few tens of
percent of inputs, and 15 points is a small shift on that level). The F-score's bin noise in the
simulation is the binomial sd at 0.5 (the largest) over the bin's certified inputs. Fixed here,
never read from the run's fit."""
FSCORE_LEVEL = 0.5
RADIUS_LEVEL = 0.45  # radius before the transition in the simulation (tests do not depend on it)


def decide_robustness_drop(inp: RobustnessBins, prereg: Preregistration = PREREG
                           ) -> ClaimResult:
    """Radius drop, smoothed F-score drop and more abstention after the transition, each at
    alpha, power-gated against :data:`EFFECT` (module docstring)."""
    result = _decide(inp, prereg)
    if not np.isfinite(result.statistic):
        return result  # no segmented model: inconclusive by its own rule
    after = inp.log_density >= result.details["transition"]
    k = inp.answered
    ok = (k >= 2) & np.isfinite(inp.radius_sd) & (inp.radius_sd > 0)
    sd = round_up(float(np.sqrt(np.sum(k[ok] * inp.radius_sd[ok] ** 2) / np.sum(k[ok]))))
    # abstention before the transition, rounded to 0.05 and kept where +0.15 stays a rate
    before = float(np.clip(np.round(np.mean(1.0 - inp.non_abstain_rate[~after]) * 20) / 20,
                           0.0, 1.0 - EFFECT.abstention))
    estimate = _power(prereg, design_key(inp.log_density), design_key(inp.high_fraction),
                      design_key(inp.certified_count, 0), before, sd)
    return power_gate(result, estimate,
                      f"{inp.log_density.size} bins of {int(inp.certified_count.min())}-"
                      f"{int(inp.certified_count.max())} certified inputs (abstention "
                      f"{before:g} before the transition, radius sd {sd:.3g}), against drops of "
                      f"{EFFECT.radius:g} in radius and {EFFECT.fscore:g} in F-score and "
                      f"abstention +{EFFECT.abstention:g}")


def decide_robustness_drop_core(inp: RobustnessBins, prereg: Preregistration = PREREG
                                ) -> ClaimResult:
    """The ungated decision: the pre-registered test without the power gate. What a size
    (null) control runs, so that its false-positive rate measures the test; the gated
    :func:`decide_robustness_drop` is what the claim reports."""
    return _decide(inp, prereg)


@functools.lru_cache(maxsize=32)
def _power(prereg: Preregistration, x: tuple[float, ...], frac: tuple[float, ...],
           certified: tuple[float, ...], abstain_before: float, sd: float) -> PowerEstimate:
    """Power of the ungated decision against :data:`EFFECT` on this design, seeded."""
    from modes.decisions import planted  # planted builds this module's input type

    xa, fa, ca = np.asarray(x), np.asarray(frac), np.asarray(certified).astype(np.int64)
    noise = float(np.sqrt(FSCORE_LEVEL * (1 - FSCORE_LEVEL) / ca.min()))
    return simulate_power(
        lambda b: _decide(b, prereg).verdict == REPLICATED,
        lambda rng: planted.robustness_bins(
            rng, radius_jump=EFFECT.radius, fscore_jump=EFFECT.fscore,
            abstain_before=abstain_before, abstain_after=abstain_before + EFFECT.abstention,
            radius_level=RADIUS_LEVEL, radius_sd=sd, fscore_level=FSCORE_LEVEL,
            fscore_noise=noise, axis=(xa, fa), certified=ca),
        GATE_REPS, seed=0)


def _decide(inp: RobustnessBins, prereg: Preregistration) -> ClaimResult:
    """The ungated decision (module docstring)."""
    x = inp.log_density
    k = inp.answered
    has_radius = (k >= 2) & np.isfinite(inp.radius_mean) & np.isfinite(inp.radius_sd) \
        & (inp.radius_sd > 0)
    weights, weighting = bin_weights(inp.radius_sd[has_radius], k[has_radius])
    try:
        transition = bin_transition(x, inp.high_fraction)
        radius = segmented_fit(x[has_radius], inp.radius_mean[has_radius], transition,
                               jump="less", weights=weights)
        fscore = segmented_fit(x, inp.smoothed_fscore, transition, jump="less")
    except NoTransition as err:
        note = str(err)
        if not has_radius.all():
            note += f" ({int((~has_radius).sum())} bins without 2 answered inputs have no radius)"
        return inconclusive(prereg, x.size, note)
    after = x >= transition
    abstain = 1.0 - inp.non_abstain_rate
    welch = stats.ttest_ind(abstain[after], abstain[~after], equal_var=False,
                            alternative="greater")
    welch_p = float(welch.pvalue) if np.isfinite(welch.pvalue) else 1.0
    conditions = [
        _jump_condition("certified radius drops at the transition", radius),
        _jump_condition("smoothed F-score drops at the transition", fscore),
        Condition("abstention higher after the transition", float(welch.statistic), welch_p,
                  f"mean abstention {abstain[after].mean():.3f} after vs "
                  f"{abstain[~after].mean():.3f} before"),
    ]
    p, failed = intersection_union(conditions, prereg.alpha)
    jump = radius.jump
    return evaluate(
        prereg, statistic=jump.t, p_value=p, effect_size=jump.estimate,
        ci=(jump.ci_low, jump.ci_high), n=radius.n, note=failed,
        details={"transition": transition, "conditions": condition_details(conditions),
                 "radius_jump_p": jump.p_value, "bins_with_radius": int(has_radius.sum()),
                 "radius_weights": weighting,
                 "smoothed_fscore_jump": fscore.jump.estimate,
                 "smoothed_fscore_jump_p": fscore.jump.p_value,
                 "abstention_low_bins": float(abstain[~after].mean()),
                 "abstention_high_bins": float(abstain[after].mean()),
                 "radius_mean": inp.radius_mean.tolist(),
                 "certified_per_bin": inp.certified_count.tolist()})
