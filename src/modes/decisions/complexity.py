"""C4's decision: high-density classes are not more compact, yet more complex (paper Fig. 2)."""

from __future__ import annotations

import attrs
import numpy as np

from modes.evidence import inconclusive, per_class, require
from modes.stats.association import two_sample_ranks
from modes.stats.claim import ClaimResult, Preregistration, evaluate
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


@attrs.frozen(eq=False)
class ComplexityInput:
    """Last-stage per-example log-densities and per-class Eq. 4 and mean intra-class distance."""

    log_density: np.ndarray
    labels: np.ndarray
    relative_entropy: np.ndarray
    mean_distance: np.ndarray
    seed: int = 0

    @property
    def class_means(self) -> np.ndarray:
        return class_means(per_class(self.log_density, self.labels))


def decide_complexity(inp: ComplexityInput, prereg: Preregistration = PREREG) -> ClaimResult:
    """High/low split at the largest gap of class means; relative entropy high > low, and the
    high classes not significantly more compact."""
    means = inp.class_means
    high = largest_gap_split(means).high
    if min(high.sum(), (~high).sum()) < 2:
        return inconclusive(prereg, len(means),
                            f"the largest gap leaves {int(high.sum())} high- and "
                            f"{int((~high).sum())} low-density classes; each side needs 2")
    rel, dist = inp.relative_entropy, inp.mean_distance
    complexity = two_sample_ranks(rel[high], rel[~high], alternative="greater", seed=inp.seed)
    compact = two_sample_ranks(dist[high], dist[~high], alternative="less", seed=inp.seed)
    result = evaluate(
        prereg, statistic=complexity.statistic, p_value=complexity.p_value,
        effect_size=complexity.rank_biserial, ci=(complexity.ci_low, complexity.ci_high),
        n=complexity.n_a + complexity.n_b,
        details={
            "n_high": int(high.sum()), "n_low": int((~high).sum()),
            "relative_entropy_high_mean": float(np.mean(rel[high])),
            "relative_entropy_low_mean": float(np.mean(rel[~high])),
            "distance_high_mean": float(np.mean(dist[high])),
            "distance_low_mean": float(np.mean(dist[~high])),
            "compactness_p_high_more_compact": compact.p_value,
            "compactness_rank_biserial": compact.rank_biserial,
        },
    )
    return require(result, compact.p_value >= prereg.alpha,
                   f"high-density classes are significantly more compact "
                   f"(p={compact.p_value:.3g}, r={compact.rank_biserial:.3f})")
