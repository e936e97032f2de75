"""C6 — held-out F-scores per density bin agree with memorization (paper Fig. 3).

"These observations are corroborated with the calculated F-scores, which are in close agreement
with mean memorization scores."
"""

from __future__ import annotations

from modes.evidence import assert_replicated
from modes.stats.association import spearman
from modes.stats.claim import Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C6",
    hypothesis="Across density bins, the F-score of a model trained without the bin falls as the "
               "bin's mean memorization rises",
    paper_ref="Fig. 3",
    test="one-sided Spearman rank correlation (rho < 0) between bin-mean memorization and "
         "held-out F-score",
    effect_name="Spearman rho",
    effect_threshold=-0.5,
    effect_direction="less",
    kind="presence",
)


def test_heldout_fscore_tracks_memorization(modes_scenario, record_claim, requires) -> None:
    with requires(PREREG):
        table = modes_scenario.density_bins()
    assoc = spearman(table.memorization_mean, table.heldout_fscore, alternative="less")
    result = evaluate(
        PREREG, statistic=assoc.rho, p_value=assoc.p_value, effect_size=assoc.rho,
        ci=(assoc.ci_low, assoc.ci_high), n=assoc.n,
        details={"heldout_fscore": table.heldout_fscore.tolist(),
                 "memorization_mean": table.memorization_mean.tolist()},
    )
    result = record_claim(result)
    assert_replicated(result)
