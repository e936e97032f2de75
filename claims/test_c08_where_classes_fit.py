"""C8 — where classes are fit (paper Fig. 4).

"Class representations are formed mostly between the second and the third stage of the ResNet
model ... class-fitting progresses similarly for memorized and typical examples, although memorized
examples induce slightly less distinct class representations."

The decision (:func:`modes.decisions.class_fitting.decide_class_fitting`) takes classes, not
class pairs, as the units: the former Wilcoxon test over ~380 ordered pairs that share classes
had a false-positive rate of 0.19-0.32 at alpha 0.01 under modest class effects. The subsets are
those of the authors' split files (``--modes-authors-files``) or the rule that produced them: each
subset with its own classes, so memorized and typical are compared as independent class sets.
"""

from __future__ import annotations

from modes.decisions.class_fitting import PREREG, SUBSETS, decide_class_fitting
from modes.decisions.on_scenario import subset_divergences
from modes.evidence import assert_replicated
from modes.report.specs import FigureSpec


def test_classes_are_fit_between_stages_2_and_3(modes_scenario, record_claim, requires,
                                                record_sensitivity) -> None:
    name = modes_scenario.config.backbone
    with requires(PREREG):
        # each subset has its own classes (the authors' split files; fig4_split): not paired
        divergences = subset_divergences(modes_scenario)
    record_sensitivity("C8")
    result = decide_class_fitting(divergences)
    figure = FigureSpec("stage_kl", "fig4_between_class_kl", {
        "stages": list(divergences.stages),
        "subsets": {s: [divergences.per_pair(s).mean(axis=1), divergences.per_pair(s).std(axis=1)]
                    for s in SUBSETS},
        "title": f"Between-class KL divergence, {name} (Fig. 4)"})
    assert_replicated(record_claim(result, (figure,)))
