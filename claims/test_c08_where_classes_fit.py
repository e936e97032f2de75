"""C8 — where classes are fit (paper Fig. 4).

"Class representations are formed mostly between the second and the third stage of the ResNet
model ... class-fitting progresses similarly for memorized and typical examples, although memorized
examples induce slightly less distinct class representations."
"""

from __future__ import annotations

import numpy as np

from modes.evidence import assert_replicated, inconclusive, require
from modes.report.specs import FigureSpec
from modes.stats.association import paired_comparison, stage_growth
from modes.stats.claim import INCONCLUSIVE, Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C8",
    hypothesis="The mean between-class KL divergence (Eq. 4, both directions) grows most between "
               "stages 2 and 3, and memorized examples give less distinct classes than typical "
               "ones at the last stage",
    paper_ref="Fig. 4",
    test="class-cluster bootstrap of (increase 2->3) - (largest other increase) on the random "
         "subset; side condition: one-sided Wilcoxon signed-rank over class pairs, KL(memorized) "
         "< KL(typical) at the last stage",
    effect_name="margin of the stage 2->3 increase over the largest other (nats)",
    effect_threshold=0.0,
    effect_direction="greater",
    kind="presence",
)

SUBSETS = ("memorized", "typical", "random")


def test_classes_are_fit_between_stages_2_and_3(modes_scenario, record_claim, requires) -> None:
    name = modes_scenario.config.backbone
    with requires(PREREG):
        out = modes_scenario.subset_divergences(name)
    kl, classes = out["kl"], out["classes"]
    layers = list(modes_scenario.representations(name))
    if len(classes) < 3:
        result = inconclusive(
            PREREG, n=len(classes),
            note=f"only {len(classes)} classes have >= "
                 f"{modes_scenario.scale.fitting.min_class_representatives} examples in each of "
                 f"the memorized, typical and random subsets; the experiment needs 3")
        result = record_claim(result)
        assert_replicated(result)
    a, b = np.nonzero(~np.eye(len(classes), dtype=bool))
    pairs = np.column_stack([a, b])
    per_pair = kl[:, :, a, b]  # (layers, subsets, pairs)
    growth = stage_growth(per_pair[:, SUBSETS.index("random")], pairs, target=1,
                          seed=modes_scenario.config.seed)
    paired = paired_comparison(per_pair[-1, SUBSETS.index("memorized")],
                               per_pair[-1, SUBSETS.index("typical")], alternative="less",
                               seed=modes_scenario.config.seed)
    result = evaluate(
        PREREG, statistic=growth.margin, p_value=growth.p_value, effect_size=growth.margin,
        ci=(growth.ci_low, growth.ci_high), n=growth.n_pairs,
        details={"increases": list(growth.increases), "prob_largest": growth.prob_largest,
                 "n_classes": len(classes), "stages": layers,
                 "memorized_vs_typical_p": paired.p_value,
                 "memorized_vs_typical_median_diff": paired.median_difference,
                 "memorized_vs_typical_rank_biserial": paired.rank_biserial},
    )
    if result.verdict != INCONCLUSIVE:
        result = require(result, paired.p_value < PREREG.alpha,
                         f"memorized vs typical KL not significantly smaller "
                         f"(p={paired.p_value:.3g}, median diff={paired.median_difference:.3g})")
    figure = FigureSpec("stage_kl", "fig4_between_class_kl", {
        "stages": layers,
        "subsets": {s: [per_pair[:, i].mean(axis=1), per_pair[:, i].std(axis=1)]
                    for i, s in enumerate(SUBSETS)},
        "title": f"Between-class KL divergence, {name} (Fig. 4)"})
    result = record_claim(result, (figure,))
    assert_replicated(result)
