"""C1 — two distinct modes of class fitting in the deep stages; C1s — the high-density mode's
order of magnitude lower spread (paper Fig. 1).

"Class representations in the last two stages display an almost phase transition-like change in
class-conditional log-densities ... two groups of classes that cluster around vastly different
density values ... [which] typically differ by an order of magnitude in the standard deviation of
the estimated class-conditional log-densities."

The decisions (:func:`modes.decisions.two_modes.decide_two_modes` and ``decide_low_spread``; why
they are two claims: :data:`modes.decisions.two_modes.PREREG`) run under both density
measurements (:mod:`modes.measures`) and on their matched nulls
(:func:`modes.decisions.on_scenario.two_modes`, ``low_spread``); the verdict is the checked
measurement's after its checks (:func:`modes.decisions.checks.gated`), the paper's is reported
beside it. Each also gets its row of the sensitivity table (``record_sensitivity``).
"""

from __future__ import annotations

from modes.decisions.on_scenario import low_spread, two_modes
from modes.evidence import assert_replicated, profile_panel
from modes.measures import MEASURES
from modes.report.specs import FigureSpec


def test_low_spread_in_high_density_mode(modes_scenario, record_claim,
                                         record_sensitivity) -> None:
    record_sensitivity("C1s")
    assert_replicated(record_claim(low_spread(modes_scenario)))


def test_two_modes_in_deep_stages(modes_scenario, record_claim, record_sensitivity) -> None:
    record_sensitivity("C1")
    name = modes_scenario.config.backbone
    labels = modes_scenario.dataset.train_labels.numpy()
    result = two_modes(modes_scenario)
    figures = [FigureSpec("class_density_profiles", f"fig1_class_log_density_{measure}",
                          {"panels": {ld.layer: {**profile_panel(ld.log_density, labels),
                                                 "flagged": ld.diagnostics.flagged}
                                      for ld in modes_scenario.layer_densities(name, measure)},
                           "title": f"Class-conditional log-densities, {name}, {measure} "
                                    f"measure (Fig. 1, A.7)"})
               for measure in MEASURES]
    layers = modes_scenario.layer_densities(name)
    figures.append(FigureSpec("svd_variance", "figA6_svd_variance",
                              {"curves": {ld.layer: ld.variance_curve for ld in layers},
                               "retained": {ld.layer: ld.dims for ld in layers},
                               "title": f"SVD retained variance, {name} (Fig. A.6)"}))
    result = record_claim(result, tuple(figures))
    assert_replicated(result)
