"""C9 — the generative classifier (Eq. A.7) recovers held-out classes, with F-scores ordered as
the between-class divergences predict (paper Fig. A.11).

"Generative classification recover classes of held-out inputs and its performance is compatible
with the between-class divergences reported in Fig. 4."
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from modes.evidence import assert_replicated, require
from modes.metrics import macro_f_score
from modes.report.specs import FigureSpec
from modes.stats.claim import INCONCLUSIVE, Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C9",
    hypothesis="At the last stage the Eq. A.7 classifier predicts held-out random examples' "
               "classes far above chance, and unmemorized examples better than memorized ones",
    paper_ref="Fig. A.11",
    test="one-sided exact binomial test of last-stage accuracy on the random held-out subset vs "
         "chance 1/C; side condition: one-sided Fisher exact test, accuracy unmemorized > "
         "memorized",
    effect_name="accuracy / chance (random subset, last stage)",
    effect_threshold=2.0,
    effect_direction="greater",
    kind="presence",
)

SUBSETS = ("memorized", "unmemorized", "random")


def test_generative_classifier_recovers_classes(modes_scenario, record_claim, requires) -> None:
    name = modes_scenario.config.backbone
    with requires(PREREG):
        out = modes_scenario.generative_classification(name)
    preds, truth, sizes = out["predictions"], out["truth"], out["subset_sizes"]
    layers = list(modes_scenario.representations(name))
    num_classes = modes_scenario.dataset.num_classes
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    parts = {s: slice(int(bounds[i]), int(bounds[i + 1])) for i, s in enumerate(SUBSETS)}
    fscores = {s: [macro_f_score(truth[sl], preds[li, sl], num_classes)
                   for li in range(len(layers))] for s, sl in parts.items()}
    correct = {s: int((preds[-1, sl] == truth[sl]).sum()) for s, sl in parts.items()}
    n = {s: sl.stop - sl.start for s, sl in parts.items()}
    chance = 1.0 / num_classes
    test = stats.binomtest(correct["random"], n["random"], chance, alternative="greater")
    accuracy = correct["random"] / n["random"]
    ci = test.proportion_ci(confidence_level=0.95)
    ordering = stats.fisher_exact(
        [[correct["unmemorized"], n["unmemorized"] - correct["unmemorized"]],
         [correct["memorized"], n["memorized"] - correct["memorized"]]], alternative="greater")
    result = evaluate(
        PREREG, statistic=float(correct["random"]), p_value=float(test.pvalue),
        effect_size=accuracy / chance, ci=(ci.low / chance, ci.high / chance), n=n["random"],
        details={"f_scores": fscores, "stages": layers,
                 "last_stage_accuracy": {s: correct[s] / n[s] for s in SUBSETS},
                 "ordering_p_unmemorized_gt_memorized": float(ordering.pvalue)},
    )
    if result.verdict != INCONCLUSIVE:
        result = require(result, float(ordering.pvalue) < PREREG.alpha,
                         f"unmemorized not classified significantly better than memorized "
                         f"(Fisher p={float(ordering.pvalue):.3g})")
    figure = FigureSpec("generative_fscores", "figA11_generative_fscores",
                        {"stages": layers, "subsets": fscores,
                         "title": f"Generative classifier F-scores, {name} (Fig. A.11)"})
    result = record_claim(result, (figure,))
    assert_replicated(result)
