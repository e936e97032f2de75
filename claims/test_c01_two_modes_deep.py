"""C1 — two distinct modes of class fitting in the deep stages (paper Fig. 1).

"Class representations in the last two stages display an almost phase transition-like change in
class-conditional log-densities ... two groups of classes that cluster around vastly different
density values ... [which] typically differ by an order of magnitude in the standard deviation of
the estimated class-conditional log-densities."

The decision (:func:`modes.decisions.two_modes.decide_two_modes`) runs under both density
measurements (:mod:`modes.measures`) and on their matched nulls; the verdict is the checked
measurement's after its checks (:func:`modes.decisions.checks.gated`), the paper's is reported
beside it.
"""

from __future__ import annotations

import attrs

from modes.decisions.checks import flag_reasons, gated, measured
from modes.decisions.two_modes import LayerValues, decide_two_modes
from modes.evidence import assert_replicated, profile_panel
from modes.measures import MEASURES
from modes.report.specs import FigureSpec

SMOKE_XFAIL = None


def test_two_modes_in_deep_stages(modes_scenario, record_claim) -> None:
    name = modes_scenario.config.backbone
    labels = modes_scenario.dataset.train_labels.numpy()
    verdicts, panels = {}, {}
    for measure in MEASURES:
        layers = modes_scenario.layer_densities(name, measure)
        deep = layers[len(layers) // 2:]
        names = [ld.layer for ld in deep]
        real = LayerValues(names, [ld.log_density for ld in deep], labels)
        nulls = [LayerValues(names, [ld.null_log_density[r] for ld in deep], labels)
                 for r in range(deep[0].null_log_density.shape[0])]
        flags = flag_reasons([(ld.layer, ld.diagnostics) for ld in deep])
        verdicts[measure] = measured(measure, decide_two_modes, real, nulls, flags)
        panels[measure] = {ld.layer: {**profile_panel(ld.log_density, labels),
                                      "flagged": ld.diagnostics.flagged} for ld in layers}
    result = gated(verdicts["checked"])
    result = attrs.evolve(result, details={
        **result.details, "measures": {m: v.summary() for m, v in verdicts.items()}})
    profiles = [FigureSpec("class_density_profiles", f"fig1_class_log_density_{measure}",
                           {"panels": panel, "title": f"Class-conditional log-densities, {name}, "
                                                      f"{measure} measure (Fig. 1, A.7)"})
                for measure, panel in panels.items()]
    svd = FigureSpec("svd_variance", "figA6_svd_variance",
                     {"curves": {ld.layer: ld.variance_curve for ld in layers},
                      "retained": {ld.layer: ld.dims for ld in layers},
                      "title": f"SVD retained variance, {name} (Fig. A.6)"})
    figures = (*profiles, svd)
    result = record_claim(result, figures, smoke_xfail=SMOKE_XFAIL)
    assert_replicated(result)
