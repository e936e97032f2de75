"""C8 — where classes are fit (paper Fig. 4).

"Class representations are formed mostly between the second and the third stage of the ResNet
model ... class-fitting progresses similarly for memorized and typical examples, although memorized
examples induce slightly less distinct class representations."

The decision (:func:`modes.decisions.class_fitting.decide_class_fitting`) takes classes, not
class pairs, as the units: the former Wilcoxon test over ~380 ordered pairs that share classes
had a false-positive rate of 0.19-0.32 at alpha 0.01 under modest class effects.
"""

from __future__ import annotations

from modes.decisions.class_fitting import (
    PREREG,
    SUBSETS,
    SubsetDivergences,
    decide_class_fitting,
)
from modes.evidence import assert_replicated, inconclusive
from modes.report.specs import FigureSpec


def test_classes_are_fit_between_stages_2_and_3(modes_scenario, record_claim, requires) -> None:
    name = modes_scenario.config.backbone
    with requires(PREREG):
        out = modes_scenario.subset_divergences(name)
    classes = out["classes"]
    layers = list(modes_scenario.representations(name))
    if len(classes) < 3:
        result = inconclusive(
            PREREG, n=len(classes),
            note=f"only {len(classes)} classes have >= "
                 f"{modes_scenario.scale.fitting.min_class_representatives} examples in each of "
                 f"the memorized, typical and random subsets; the experiment needs 3")
        assert_replicated(record_claim(result))
    divergences = SubsetDivergences(out["kl"], layers)
    result = decide_class_fitting(divergences)
    figure = FigureSpec("stage_kl", "fig4_between_class_kl", {
        "stages": layers,
        "subsets": {s: [divergences.per_pair(s).mean(axis=1), divergences.per_pair(s).std(axis=1)]
                    for s in SUBSETS},
        "title": f"Between-class KL divergence, {name} (Fig. 4)"})
    assert_replicated(record_claim(result, (figure,)))
