"""C3 — a plain (non-residual) CNN fits classes uniformly in every layer (paper Fig. A.8).

"We replicated our experiments using a plain (i.e. non-residual) 8-layer convolutional network.
This model fits classes in an uniform way across all hidden layers."

Decided by :func:`modes.decisions.no_modes.decide_no_modes` (the dip test at every layer,
accepted only with power against a fixed, pre-registered two-mode effect: why, there) under both
density measurements (:func:`modes.decisions.checks.both_measures`).
"""

from __future__ import annotations

from functools import partial

from modes.decisions.checks import both_measures, final
from modes.decisions.no_modes import C3, AbsenceInput, decide_no_modes
from modes.decisions.two_modes import LayerValues
from modes.evidence import assert_replicated, profile_panel
from modes.report.specs import FigureSpec


def test_plain_cnn_fits_classes_uniformly(modes_scenario, record_claim, requires) -> None:
    labels = modes_scenario.dataset.train_labels.numpy()
    seed = modes_scenario.config.seed
    control = modes_scenario.config.control_backbone
    with requires(C3):  # first the control's densities: a scenario without it stops here
        layers = modes_scenario.layer_densities(control)

    def inputs(measure, layers, r):
        return AbsenceInput(LayerValues([ld.layer for ld in layers],
                                        [ld.log_density_of(r) for ld in layers], labels),
                            seed)

    result = final(both_measures(partial(modes_scenario.layer_densities, control), inputs,
                                 partial(decide_no_modes, prereg=C3)))
    figure = FigureSpec("class_density_profiles", "figA8_plain_cnn",
                        {"panels": {ld.layer: {**profile_panel(ld.log_density, labels),
                                               "flagged": ld.diagnostics.flagged}
                                    for ld in layers},
                         "title": f"Class-conditional log-densities, {control} (Fig. A.8)"})
    result = record_claim(result, (figure,))
    assert_replicated(result)
