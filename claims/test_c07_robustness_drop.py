"""C7 — robustness drops at the transition to high-density classes (paper Fig. 3).

"Transition from the low- to the high-density regime coincide with abrupt decrease in certified
radii and F-scores of the smoothed classifier. CERTIFY is also slightly more likely to abstain in
high-density classes."
"""

from __future__ import annotations

import numpy as np

from modes.evidence import assert_replicated, bin_transition, inconclusive, require
from modes.stats.claim import INCONCLUSIVE, Preregistration, evaluate
from modes.stats.piecewise import piecewise_step

PREREG = Preregistration(
    claim_id="C7",
    hypothesis="Mean certified radius (randomized smoothing, CERTIFY) drops at the transition "
               "from low- to high-density bins; the smoothed F-score drops too and abstention "
               "is higher in high-density bins",
    paper_ref="Fig. 3",
    test="OLS step regression of bin-mean certified radius on bin-mean log-density, one-sided t "
         "test of a negative jump; side conditions: smoothed F-score jump < 0 and mean "
         "non-abstain rate lower in bins after the transition",
    effect_name="jump in mean certified radius",
    effect_threshold=-0.02,
    effect_direction="less",
    kind="presence",
)


def test_robustness_drops_at_transition(modes_scenario, record_claim, requires) -> None:
    with requires(PREREG):
        table = modes_scenario.density_bins()
    transition, why = bin_transition(table)
    if transition is None:
        result = inconclusive(PREREG, table.bins, why)
        assert_replicated(record_claim(result))
    radius = np.nan_to_num(table.radius_mean)  # a bin where CERTIFY always abstained: radius 0
    x = table.log_density_mean
    try:
        fit = piecewise_step(x, radius, transition, jump_alternative="less",
                             slope_alternative="two-sided", separate_slopes=table.bins >= 20)
        fscore = piecewise_step(x, table.smoothed_fscore, transition, jump_alternative="less",
                                slope_alternative="two-sided", separate_slopes=table.bins >= 20)
    except ValueError as err:
        result = inconclusive(PREREG, table.bins, f"step regression impossible: {err}")
        assert_replicated(record_claim(result))
    after = x >= transition
    abstain_low = 1.0 - float(table.non_abstain_rate[~after].mean())
    abstain_high = 1.0 - float(table.non_abstain_rate[after].mean())
    result = evaluate(
        PREREG, statistic=fit.jump.t, p_value=fit.jump.p_value, effect_size=fit.jump.estimate,
        ci=(fit.jump.ci_low, fit.jump.ci_high), n=fit.n,
        details={"transition": transition, "smoothed_fscore_jump": fscore.jump.estimate,
                 "smoothed_fscore_jump_p": fscore.jump.p_value,
                 "abstention_low_bins": abstain_low, "abstention_high_bins": abstain_high,
                 "radius_mean": table.radius_mean.tolist(), "radius_units": "[0, 1] pixels",
                 "noise_space": table.noise_space,
                 "noise_pixel_sd": table.noise_pixel_sd.tolist(),
                 "certified_per_bin": table.certified_count.tolist()},
    )
    if result.verdict != INCONCLUSIVE:
        result = require(result, fscore.jump.estimate < 0,
                         f"smoothed F-score does not drop (jump={fscore.jump.estimate:.3g})")
        result = require(result, abstain_high > abstain_low,
                         f"abstention not higher in high-density bins "
                         f"({abstain_high:.3f} vs {abstain_low:.3f})")
    result = record_claim(result)
    assert_replicated(result)
