"""C3 — a plain (non-residual) CNN fits classes uniformly in every layer (paper Fig. A.8).

"We replicated our experiments using a plain (i.e. non-residual) 8-layer convolutional network.
This model fits classes in an uniform way across all hidden layers."

Decided by :func:`modes.decisions.no_modes.decide_no_modes` (the dip test at every layer,
accepted only with power against a fixed, pre-registered two-mode effect: why, there) under both
density measurements (:func:`modes.decisions.on_scenario.plain_cnn_uniform`).
"""

from __future__ import annotations

from modes.decisions.no_modes import C3
from modes.decisions.on_scenario import plain_cnn_uniform
from modes.evidence import assert_replicated, profile_panel
from modes.report.specs import FigureSpec


def test_plain_cnn_fits_classes_uniformly(modes_scenario, record_claim, requires,
                                          record_sensitivity) -> None:
    labels = modes_scenario.dataset.train_labels.numpy()
    control = modes_scenario.config.control_backbone
    with requires(C3):  # first the control's densities: a scenario without it stops here
        layers = modes_scenario.layer_densities(control)
    record_sensitivity("C3")
    result = plain_cnn_uniform(modes_scenario)
    figure = FigureSpec("class_density_profiles", "figA8_plain_cnn",
                        {"panels": {ld.layer: {**profile_panel(ld.log_density, labels),
                                               "flagged": ld.diagnostics.flagged}
                                    for ld in layers},
                         "title": f"Class-conditional log-densities, {control} (Fig. A.8)"})
    result = record_claim(result, (figure,))
    assert_replicated(result)
