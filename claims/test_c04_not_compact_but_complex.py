"""C4 — high-density classes are not more compact, yet far more non-Gaussian (paper Fig. 2).

"The high-density classes are *not* more spatially compact at the neural representation level than
the low-density classes. However, their posterior predictive distributions have vastly larger
complexity than the posterior predictive distributions of the low-density classes."
"""

from __future__ import annotations

import numpy as np

from modes.evidence import assert_replicated, inconclusive, per_class, require
from modes.report.specs import FigureSpec
from modes.stats.association import two_sample_ranks
from modes.stats.claim import Preregistration, evaluate
from modes.stats.modality import class_means
from modes.stats.split import largest_gap_split

PREREG = Preregistration(
    claim_id="C4",
    hypothesis="At the last stage, high-density classes have larger relative entropy (Eq. 4, "
               "from the max-entropy diagonal Gaussian) than low-density classes, while their "
               "mean intra-class distance is not smaller",
    paper_ref="Fig. 2",
    test="one-sided Mann-Whitney U, relative entropy high > low (rank-biserial r); side "
         "condition: one-sided Mann-Whitney 'high more compact' not significant at alpha",
    effect_name="rank-biserial r (relative entropy, high vs low)",
    effect_threshold=0.5,
    effect_direction="greater",
    kind="presence",
)

SMOKE_XFAIL = (
    "measured at smoke (seed 0): the largest gap of stage-4 class means isolates a single "
    "low-density class (19 high, 1 low), so the high/low comparison has no second low class"
)


def test_high_density_classes_not_compact_but_complex(modes_scenario, record_claim) -> None:
    name = modes_scenario.config.backbone
    last = modes_scenario.layer_densities(name)[-1]
    labels = modes_scenario.dataset.train_labels.numpy()
    means = class_means(per_class(last.log_density, labels))
    split = largest_gap_split(means)
    figure = FigureSpec("compactness_and_complexity", "fig2_compactness_complexity",
                        {"class_means": means, "relative_entropy": last.relative_entropy,
                         "mean_distance": last.mean_intra_distance, "threshold": split.threshold,
                         "title": f"Relative entropy and intra-class distance, {name} (Fig. 2)"})
    high = split.high
    if min(high.sum(), (~high).sum()) < 2:
        result = inconclusive(PREREG, len(means),
                              f"the largest gap leaves {int(high.sum())} high- and "
                              f"{int((~high).sum())} low-density classes; each side needs 2")
        assert_replicated(record_claim(result, (figure,), smoke_xfail=SMOKE_XFAIL))
    complexity = two_sample_ranks(last.relative_entropy[high], last.relative_entropy[~high],
                                  alternative="greater", seed=modes_scenario.config.seed)
    compact = two_sample_ranks(last.mean_intra_distance[high], last.mean_intra_distance[~high],
                               alternative="less", seed=modes_scenario.config.seed)
    result = evaluate(
        PREREG, statistic=complexity.statistic, p_value=complexity.p_value,
        effect_size=complexity.rank_biserial, ci=(complexity.ci_low, complexity.ci_high),
        n=complexity.n_a + complexity.n_b,
        details={
            "n_high": int(high.sum()), "n_low": int((~high).sum()),
            "relative_entropy_high_mean": float(np.mean(last.relative_entropy[high])),
            "relative_entropy_low_mean": float(np.mean(last.relative_entropy[~high])),
            "distance_high_mean": float(np.mean(last.mean_intra_distance[high])),
            "distance_low_mean": float(np.mean(last.mean_intra_distance[~high])),
            "compactness_p_high_more_compact": compact.p_value,
            "compactness_rank_biserial": compact.rank_biserial,
        },
    )
    result = require(result, compact.p_value >= PREREG.alpha,
                     f"high-density classes are significantly more compact "
                     f"(p={compact.p_value:.3g}, r={compact.rank_biserial:.3f})")
    result = record_claim(result, (figure,), smoke_xfail=SMOKE_XFAIL)
    assert_replicated(result)
