"""C5 — memorization vs class-conditional density (paper Fig. 3).

"Up to the transition point between the low- and the high-density classes, the degree of
memorization of an input examples decreases—on average—with increasing class-conditional
log-density ... The transition is marked by an abrupt increase in average memorization."

The decision (:func:`modes.decisions.memorization_jump.decide_memorization_jump`) fits separate
lines before and after the transition, so data that fall and then flatten without a jump show
no jump (one common slope reported +0.049 on such data); the falling slope before the
transition is tested, not read off its sign; both parts enter one intersection-union p-value.
"""

from __future__ import annotations

from modes.decisions.memorization_jump import PREREG
from modes.decisions.on_scenario import memorization_jump
from modes.evidence import assert_replicated, figure3_spec


def test_memorization_jumps_at_transition(modes_scenario, record_claim, requires,
                                          record_sensitivity) -> None:
    with requires(PREREG):
        table = modes_scenario.density_bins()
    record_sensitivity("C5")
    figure = figure3_spec(table, f"Density bins, {modes_scenario.config.backbone} (Fig. 3)")
    # the bins' density, memorization and class mix: the table's own columns (bin_summary)
    assert_replicated(record_claim(memorization_jump(modes_scenario), (figure,)))
