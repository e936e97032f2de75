"""C1 — two distinct modes of class fitting in the deep stages (paper Fig. 1).

"Class representations in the last two stages display an almost phase transition-like change in
class-conditional log-densities ... two groups of classes that cluster around vastly different
density values ... [which] typically differ by an order of magnitude in the standard deviation of
the estimated class-conditional log-densities."
"""

from __future__ import annotations

from modes.evidence import assert_replicated, layer_evidence, profile_panel, require
from modes.report.specs import FigureSpec
from modes.stats.claim import Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C1",
    hypothesis="In ResNet stages 3 and 4 the class-mean log-densities (Eq. 3) form two modes, and "
               "the low-density classes' per-example log-density spread is a large factor above "
               "the high-density classes'",
    paper_ref="Fig. 1",
    test="Hartigan's dip test on class means at each deep stage (intersection-union: max p), "
         "BIC prefers 2 over 1 Gaussian by > 10 at each, spread ratio (low/high sd) at the "
         "largest-gap split",
    effect_name="min spread ratio over deep stages",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="presence",
)

SMOKE_XFAIL = (
    "measured at smoke (seed 0: 20 synthetic classes, width-1/8 ResNet18, 15 epochs, 60 "
    "sweeps): class means at stages 3-4 are unimodal (dip p 0.47-0.48, BIC margin < 10) and "
    "the largest gap isolates a single class; the dip test's power at 20 classes with a "
    "minority high group is only 0.43 even for an 8-sd separation (tests/stats controls)"
)


def test_two_modes_in_deep_stages(modes_scenario, record_claim) -> None:
    name = modes_scenario.config.backbone
    layers = modes_scenario.layer_densities(name)
    labels = modes_scenario.dataset.train_labels.numpy()
    deep = layers[len(layers) // 2:]
    evidence = layer_evidence([ld.log_density for ld in deep], labels)
    worst_p = max(range(len(deep)), key=lambda i: evidence[i].dip.p_value)
    weakest = min(range(len(deep)), key=lambda i: evidence[i].ratio_or_zero)
    ev = evidence[weakest]
    result = evaluate(
        PREREG, statistic=evidence[worst_p].dip.statistic, p_value=evidence[worst_p].dip.p_value,
        effect_size=ev.ratio, ci=ev.ratio_ci,
        n=ev.dip.n,
        details={
            "stages": [ld.layer for ld in deep],
            "dip_p": [e.dip.p_value for e in evidence],
            "dip_statistic": [e.dip.statistic for e in evidence],
            "bic_delta": [e.bic.delta for e in evidence],
            "spread_ratio": [e.ratio for e in evidence],
            "n_high_classes": [e.n_high for e in evidence],
            "threshold": [e.threshold for e in evidence],
            "max_rhat": [ld.max_rhat for ld in deep],
        },
    )
    result = require(result, all(e.bic.delta > 10.0 for e in evidence),
                     f"BIC margin not > 10 at every deep stage: {[e.bic.delta for e in evidence]}")
    figures = (
        FigureSpec("class_density_profiles", "fig1_class_log_density",
                   {"panels": {ld.layer: profile_panel(ld.log_density, labels) for ld in layers},
                    "title": f"Class-conditional log-densities, {name} (Fig. 1, A.7)"}),
        FigureSpec("svd_variance", "figA6_svd_variance",
                   {"curves": {ld.layer: ld.variance_curve for ld in layers},
                    "retained": {ld.layer: ld.dims for ld in layers},
                    "title": f"SVD retained variance, {name} (Fig. A.6)"}),
    )
    result = record_claim(result, figures, smoke_xfail=SMOKE_XFAIL)
    assert_replicated(result)
