"""C2 — no distinct modes of class fitting in the first two stages (paper Fig. A.7).

"In the initial two stages of a ResNet model classes are mostly indistinguishable with respect to
the class-conditional log-densities of neural representations."

Decided by :func:`modes.decisions.no_modes.decide_no_modes` (the dip test at each shallow stage,
accepted only with power against a fixed, pre-registered two-mode effect: why, there) under both
density measurements (:func:`modes.decisions.on_scenario.no_modes_shallow`).
"""

from __future__ import annotations

from modes.decisions.on_scenario import no_modes_shallow
from modes.evidence import assert_replicated


def test_no_modes_in_shallow_stages(modes_scenario, record_claim, record_sensitivity) -> None:
    record_sensitivity("C2")
    assert_replicated(record_claim(no_modes_shallow(modes_scenario)))
