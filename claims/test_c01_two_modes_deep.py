"""C1 — two distinct modes of class fitting in the deep stages; C1s — the high-density mode's
order of magnitude lower spread (paper Fig. 1).

"Class representations in the last two stages display an almost phase transition-like change in
class-conditional log-densities ... two groups of classes that cluster around vastly different
density values ... [which] typically differ by an order of magnitude in the standard deviation of
the estimated class-conditional log-densities."

The decisions (:func:`modes.decisions.two_modes.decide_two_modes` and ``decide_low_spread``; why
they are two claims: :data:`modes.decisions.two_modes.PREREG`) run under both density
measurements (:mod:`modes.measures`) and on their matched nulls; the verdict is the checked
measurement's after its checks (:func:`modes.decisions.checks.gated`), the paper's is reported
beside it.
"""

from __future__ import annotations

from modes.decisions.checks import both_measures, final
from modes.decisions.two_modes import LayerValues, decide_low_spread, decide_two_modes
from modes.evidence import assert_replicated, profile_panel
from modes.measures import MEASURES
from modes.report.specs import FigureSpec


def _deep_stages(scenario):
    name = scenario.config.backbone
    labels = scenario.dataset.train_labels.numpy()

    def deep(measure: str, nulls: bool):
        layers = scenario.layer_densities(name, measure, nulls)
        return layers[len(layers) // 2:]

    def values(measure, layers, r):
        return LayerValues([ld.layer for ld in layers], [ld.log_density_of(r) for ld in layers],
                           labels)

    return deep, values


def test_low_spread_in_high_density_mode(modes_scenario, record_claim) -> None:
    result = final(both_measures(*_deep_stages(modes_scenario), decide_low_spread))
    assert_replicated(record_claim(result))


def test_two_modes_in_deep_stages(modes_scenario, record_claim) -> None:
    name = modes_scenario.config.backbone
    labels = modes_scenario.dataset.train_labels.numpy()
    result = final(both_measures(*_deep_stages(modes_scenario), decide_two_modes))
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
