"""C2 — no distinct modes of class fitting in the first two stages (paper Fig. A.7).

"In the initial two stages of a ResNet model classes are mostly indistinguishable with respect to
the class-conditional log-densities of neural representations."

Decided by :func:`modes.decisions.no_modes.decide_no_modes` under both density measurements and on
their matched nulls (:func:`modes.decisions.checks.both_measures`).
"""

from __future__ import annotations

from functools import partial

from modes.decisions.checks import both_measures, final
from modes.decisions.no_modes import C2, AbsenceInput, decide_no_modes
from modes.decisions.two_modes import LayerValues
from modes.evidence import assert_replicated, reference_effect


def test_no_modes_in_shallow_stages(modes_scenario, record_claim) -> None:
    name = modes_scenario.config.backbone
    labels = modes_scenario.dataset.train_labels.numpy()
    seed = modes_scenario.config.seed
    references = {m: reference_effect(modes_scenario.layer_densities(name, m)[-1].log_density,
                                      labels) for m in ("paper", "checked")}

    def shallow(measure: str, nulls: bool):
        layers = modes_scenario.layer_densities(name, measure, nulls)
        return layers[: len(layers) // 2]

    def inputs(measure, layers, r):
        return AbsenceInput(LayerValues([ld.layer for ld in layers],
                                        [ld.log_density_of(r) for ld in layers], labels),
                            references[measure], seed)

    result = final(both_measures(shallow, inputs, partial(decide_no_modes, prereg=C2)))
    result = record_claim(result)
    assert_replicated(result)
