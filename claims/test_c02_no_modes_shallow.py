"""C2 — no distinct modes of class fitting in the first two stages (paper Fig. A.7).

"In the initial two stages of a ResNet model classes are mostly indistinguishable with respect to
the class-conditional log-densities of neural representations."
"""

from __future__ import annotations

from modes.evidence import absence_numbers, assert_replicated, reference_effect
from modes.stats.claim import Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C2",
    hypothesis="In ResNet stages 1 and 2 the class-mean log-densities do not form two modes",
    paper_ref="Fig. A.7",
    test="Hartigan's dip test per shallow stage (Bonferroni over stages); absence accepted by an "
         "equivalence bound on the spread ratio or by power >= 0.8 against C1's observed effect",
    effect_name="max spread ratio over shallow stages",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="absence",
)

SMOKE_XFAIL = None


def test_no_modes_in_shallow_stages(modes_scenario, record_claim) -> None:
    layers = modes_scenario.layer_densities(modes_scenario.config.backbone)
    labels = modes_scenario.dataset.train_labels.numpy()
    shallow = layers[: len(layers) // 2]
    reference = reference_effect(layers[-1].log_density, labels)
    numbers = absence_numbers([ld.log_density for ld in shallow], labels, reference,
                              PREREG.alpha, seed=modes_scenario.config.seed)
    numbers["details"]["stages"] = [ld.layer for ld in shallow]
    result = record_claim(evaluate(PREREG, **numbers), smoke_xfail=SMOKE_XFAIL)
    assert_replicated(result)
