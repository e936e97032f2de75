"""C9 — the generative classifier (Eq. A.7) recovers held-out classes, with accuracy ordered as
the between-class divergences of Fig. 4 predict (paper Fig. A.11).

"Generative classification recover classes of held-out inputs and its performance is compatible
with the between-class divergences reported in Fig. 4."

The decision (:func:`modes.decisions.generative.decide_generative`) replaces "above twice
chance", which could hardly fail, by "most held-out random examples recovered" (accuracy > 0.5),
and tests the two Fig. 4 orderings (largest gain from stage 2 to 3; unmemorized above memorized),
with classes as clusters.
"""

from __future__ import annotations

from modes.decisions.generative import PREREG, decide_generative
from modes.decisions.on_scenario import heldout_predictions
from modes.evidence import assert_replicated
from modes.report.specs import FigureSpec


def test_generative_classifier_recovers_classes(modes_scenario, record_claim, requires,
                                                record_sensitivity) -> None:
    name = modes_scenario.config.backbone
    with requires(PREREG):
        predictions = heldout_predictions(modes_scenario)
    record_sensitivity("C9")
    result = decide_generative(predictions)
    figure = FigureSpec("generative_fscores", "figA11_generative_fscores",
                        {"stages": list(predictions.stages), "subsets": result.details["f_scores"],
                         "title": f"Generative classifier F-scores, {name} (Fig. A.11)"})
    assert_replicated(record_claim(result, (figure,)))
