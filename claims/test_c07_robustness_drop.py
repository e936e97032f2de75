"""C7 — robustness drops at the transition to high-density classes (paper Fig. 3).

"Transition from the low- to the high-density regime coincide with abrupt decrease in certified
radii and F-scores of the smoothed classifier. CERTIFY is also slightly more likely to abstain in
high-density classes."

The decision (:func:`modes.decisions.robustness_drop.decide_robustness_drop`) fits separate lines
on each side of the transition for radius and smoothed F-score, leaves bins where CERTIFY always
abstained out of the radius fit (their abstentions are counted once, in the abstention test, not
again as radius 0), tests the abstention increase with Welch's t over bins, and combines the
three parts by intersection-union.
"""

from __future__ import annotations

from modes.decisions.on_scenario import robustness_drop
from modes.decisions.robustness_drop import PREREG
from modes.evidence import assert_replicated


def test_robustness_drops_at_transition(modes_scenario, record_claim, requires,
                                        record_sensitivity) -> None:
    with requires(PREREG):
        modes_scenario.density_bins()
    record_sensitivity("C7")
    assert_replicated(record_claim(robustness_drop(modes_scenario)))
