"""C2 — no distinct modes of class fitting in the first two stages (paper Fig. A.7).

"In the initial two stages of a ResNet model classes are mostly indistinguishable with respect to
the class-conditional log-densities of neural representations."

Decided by :func:`modes.decisions.no_modes.decide_no_modes` (the dip test at each shallow stage,
accepted only with power against a fixed, pre-registered two-mode effect: why, there) under both
density measurements (:func:`modes.decisions.checks.both_measures`).
"""

from __future__ import annotations

from functools import partial

from modes.decisions.checks import both_measures, final
from modes.decisions.no_modes import C2, AbsenceInput, decide_no_modes
from modes.decisions.two_modes import LayerValues
from modes.evidence import assert_replicated


def test_no_modes_in_shallow_stages(modes_scenario, record_claim) -> None:
    name = modes_scenario.config.backbone
    labels = modes_scenario.dataset.train_labels.numpy()
    seed = modes_scenario.config.seed

    def shallow(measure: str, nulls: bool):
        layers = modes_scenario.layer_densities(name, measure, nulls)
        return layers[: len(layers) // 2]

    def inputs(measure, layers, r):
        return AbsenceInput(LayerValues([ld.layer for ld in layers],
                                        [ld.log_density_of(r) for ld in layers], labels),
                            seed)

    result = final(both_measures(shallow, inputs, partial(decide_no_modes, prereg=C2)))
    result = record_claim(result)
    assert_replicated(result)
