"""C5 — memorization vs class-conditional density (paper Fig. 3).

"Up to the transition point between the low- and the high-density classes, the degree of
memorization of an input examples decreases—on average—with increasing class-conditional
log-density ... The transition is marked by an abrupt increase in average memorization."
"""

from __future__ import annotations

from modes.evidence import (
    assert_replicated,
    bin_transition,
    figure3_spec,
    inconclusive,
    require,
)
from modes.stats.claim import INCONCLUSIVE, Preregistration, evaluate
from modes.stats.piecewise import piecewise_step

PREREG = Preregistration(
    claim_id="C5",
    hypothesis="Across density bins, mean memorization jumps up at the transition from low- to "
               "high-density classes, after decreasing with density among low-density bins",
    paper_ref="Fig. 3",
    test="OLS of bin-mean memorization on bin-mean log-density with a step at the transition "
         "(separate slopes when >= 20 bins), one-sided t test of the jump; side condition: "
         "pre-transition slope negative (one-sided p < alpha)",
    effect_name="jump in mean memorization score",
    effect_threshold=0.05,
    effect_direction="greater",
    kind="presence",
)


def test_memorization_jumps_at_transition(modes_scenario, record_claim, requires) -> None:
    with requires(PREREG):
        table = modes_scenario.density_bins()
    transition, why = bin_transition(table)
    figure = figure3_spec(table, f"Density bins, {modes_scenario.config.backbone} (Fig. 3)")
    if transition is None:
        result = inconclusive(PREREG, table.bins, why)
        assert_replicated(record_claim(result, (figure,)))
    try:
        fit = piecewise_step(table.log_density_mean, table.memorization_mean, transition,
                             jump_alternative="greater", slope_alternative="less",
                             separate_slopes=table.bins >= 20)
    except ValueError as err:
        result = inconclusive(PREREG, table.bins, f"step regression impossible: {err}")
        assert_replicated(record_claim(result, (figure,)))
    result = evaluate(
        PREREG, statistic=fit.jump.t, p_value=fit.jump.p_value, effect_size=fit.jump.estimate,
        ci=(fit.jump.ci_low, fit.jump.ci_high), n=fit.n,
        details={"transition": transition, "slope_before": fit.slope_before.estimate,
                 "slope_before_p": fit.slope_before.p_value, "r_squared": fit.r_squared,
                 "bins_before": fit.n_before,
                 "memorization_mean": table.memorization_mean.tolist(),
                 "high_fraction": table.high_fraction.tolist()},
    )
    if result.verdict != INCONCLUSIVE:
        result = require(result, fit.slope_before.p_value < PREREG.alpha,
                         f"pre-transition slope not significantly negative "
                         f"(slope={fit.slope_before.estimate:.3g}, "
                         f"p={fit.slope_before.p_value:.3g})")
    result = record_claim(result, (figure,))
    assert_replicated(result)
