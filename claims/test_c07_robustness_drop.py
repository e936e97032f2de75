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

import attrs

from modes.decisions.robustness_drop import PREREG, RobustnessBins, decide_robustness_drop
from modes.evidence import assert_replicated


def test_robustness_drops_at_transition(modes_scenario, record_claim, requires) -> None:
    with requires(PREREG):
        table = modes_scenario.density_bins()
    result = decide_robustness_drop(RobustnessBins.from_table(table))
    result = attrs.evolve(result, details={
        **result.details, "radius_units": "[0, 1] pixels", "noise_space": table.noise_space,
        "noise_pixel_sd": table.noise_pixel_sd.tolist()})
    assert_replicated(record_claim(result))
