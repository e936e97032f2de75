"""C4 — high-density classes are not more compact, yet far more non-Gaussian (paper Fig. 2).

"The high-density classes are *not* more spatially compact at the neural representation level than
the low-density classes. However, their posterior predictive distributions have vastly larger
complexity than the posterior predictive distributions of the low-density classes."

Decided by :func:`modes.decisions.complexity.decide_complexity` under both density measurements
and on their matched nulls (:func:`modes.decisions.on_scenario.not_compact_but_complex`).
"""

from __future__ import annotations

from modes.decisions.on_scenario import complexity_inputs, not_compact_but_complex
from modes.evidence import assert_replicated
from modes.report.specs import FigureSpec
from modes.stats.split import largest_gap_split


def test_high_density_classes_not_compact_but_complex(modes_scenario, record_claim,
                                                      record_sensitivity) -> None:
    record_sensitivity("C4")
    name = modes_scenario.config.backbone
    result = not_compact_but_complex(modes_scenario)
    figures = []
    for measure in ("paper", "checked"):
        ld = modes_scenario.layer_densities(name, measure, part="last")[0]
        means = complexity_inputs(modes_scenario, ld, None).class_means
        figures.append(FigureSpec(
            "compactness_and_complexity", f"fig2_compactness_complexity_{measure}",
            {"class_means": means, "relative_entropy": ld.relative_entropy,
             "mean_distance": ld.mean_intra_distance,
             "threshold": largest_gap_split(means).threshold,
             "title": f"Relative entropy and intra-class distance, {name}, {measure} measure "
                      f"(Fig. 2)"}))
    result = record_claim(result, tuple(figures))
    assert_replicated(result)
