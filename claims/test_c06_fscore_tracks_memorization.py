"""C6 — held-out F-scores per density bin agree with memorization (paper Fig. 3).

"These observations are corroborated with the calculated F-scores, which are in close agreement
with mean memorization scores."

The decision (:func:`modes.decisions.fscore_tracking.decide_fscore_tracking`) takes Spearman's
rho over bins with a permutation p-value (exact up to 8 bins) instead of the t approximation,
which is poor with 8 bins. Its docstring notes what the claim can show: a bin's held-out
accuracy is about 1 - its memorization by the definition of the memorization score.
"""

from __future__ import annotations

from modes.decisions.fscore_tracking import PREREG
from modes.decisions.on_scenario import fscore_tracking
from modes.evidence import assert_replicated


def test_heldout_fscore_tracks_memorization(modes_scenario, record_claim, requires,
                                            record_sensitivity) -> None:
    with requires(PREREG):
        modes_scenario.density_bins()
    record_sensitivity("C6")
    assert_replicated(record_claim(fscore_tracking(modes_scenario)))
