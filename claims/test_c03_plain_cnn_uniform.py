"""C3 — a plain (non-residual) CNN fits classes uniformly in every layer (paper Fig. A.8).

"We replicated our experiments using a plain (i.e. non-residual) 8-layer convolutional network.
This model fits classes in an uniform way across all hidden layers."
"""

from __future__ import annotations

from modes.evidence import absence_numbers, assert_replicated, profile_panel, reference_effect
from modes.report.specs import FigureSpec
from modes.stats.claim import Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C3",
    hypothesis="In no layer of the plain 8-layer CNN do the class-mean log-densities form two "
               "modes",
    paper_ref="Fig. A.8",
    test="Hartigan's dip test per layer (Bonferroni over layers); absence accepted by an "
         "equivalence bound on the spread ratio or by power >= 0.8 against C1's observed effect",
    effect_name="max spread ratio over layers",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="absence",
)

SMOKE_XFAIL = None


def test_plain_cnn_fits_classes_uniformly(modes_scenario, record_claim) -> None:
    labels = modes_scenario.dataset.train_labels.numpy()
    resnet = modes_scenario.layer_densities(modes_scenario.config.backbone)
    control = modes_scenario.config.control_backbone
    layers = modes_scenario.layer_densities(control)
    reference = reference_effect(resnet[-1].log_density, labels)
    numbers = absence_numbers([ld.log_density for ld in layers], labels, reference,
                              PREREG.alpha, seed=modes_scenario.config.seed)
    numbers["details"]["layers"] = [ld.layer for ld in layers]
    figure = FigureSpec("class_density_profiles", "figA8_plain_cnn",
                        {"panels": {ld.layer: profile_panel(ld.log_density, labels)
                                    for ld in layers},
                         "title": f"Class-conditional log-densities, {control} (Fig. A.8)"})
    result = record_claim(evaluate(PREREG, **numbers), (figure,), smoke_xfail=SMOKE_XFAIL)
    assert_replicated(result)
