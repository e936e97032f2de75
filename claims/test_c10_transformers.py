"""C10 — ViT and MLP-Mixer: no modes in initial blocks, low/high-density structure in some deeper
blocks (paper Figs. A.9, A.10).

"Initial layers in ViT and Mixer-MLP models do not display any unexpected structure in class
conditional distributions of neural representations ... we observe layers where class
representations display structure similar to the one observed in ResNets, namely low- and
high-density modes."
"""

from __future__ import annotations

from modes.evidence import (
    absence_numbers,
    assert_replicated,
    layer_evidence,
    profile_panel,
    reference_effect,
    require,
)
from modes.report.specs import FigureSpec
from modes.stats.claim import INCONCLUSIVE, Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C10",
    hypothesis="In every transformer backbone (ViT, MLP-Mixer) some deeper block shows two modes "
               "of class-mean log-densities with a large spread ratio, and the initial blocks show "
               "none",
    paper_ref="Figs. A.9, A.10",
    test="per backbone: dip test on class means at each deeper block (Bonferroni over blocks, "
         "best block); across backbones intersection-union (max p); side condition: initial "
         "blocks' absence test not refuted",
    effect_name="min over backbones of the best deeper block's spread ratio",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="presence",
)

SMOKE_XFAIL = (
    "measured at smoke (seed 0: 4-block, 64-wide ViT and Mixer trained 15 epochs on 20 "
    "synthetic classes): no deeper block shows bimodal class means (best dip p 0.34 for ViT, "
    "1.0 for Mixer after Bonferroni; spread ratios 0.87-1.07)"
)


def test_transformers_modes_only_in_deeper_blocks(modes_scenario, record_claim) -> None:
    labels = modes_scenario.dataset.train_labels.numpy()
    per_backbone, figures = {}, []
    for name in modes_scenario.config.transformers:
        layers = modes_scenario.layer_densities(name)
        initial, deeper = layers[: len(layers) // 2], layers[len(layers) // 2:]
        evidence = layer_evidence([ld.log_density for ld in deeper], labels)
        best = max(range(len(deeper)),
                   key=lambda i: (evidence[i].dip.p_value < PREREG.alpha,
                                  evidence[i].ratio_or_zero))
        absence = absence_numbers([ld.log_density for ld in initial], labels,
                                  reference_effect(deeper[best].log_density, labels),
                                  PREREG.alpha, seed=modes_scenario.config.seed)
        per_backbone[name] = {
            "p": min(1.0, evidence[best].dip.p_value * len(deeper)),
            "dip": evidence[best].dip.statistic,
            "ratio": evidence[best].ratio,
            "ci": evidence[best].ratio_ci,
            "bic_delta": evidence[best].bic.delta, "block": deeper[best].layer,
            "n": evidence[best].dip.n, "initial_p": absence["p_value"],
            "initial_ratio": absence["effect_size"],
        }
        figures.append(FigureSpec(
            "class_density_profiles", f"figA9_A10_{name}",
            {"panels": {ld.layer: profile_panel(ld.log_density, labels) for ld in layers},
             "title": f"Class-conditional log-densities, {name} (Figs. A.9, A.10)"}))
    worst = max(per_backbone, key=lambda k: per_backbone[k]["p"])
    weakest = min(per_backbone, key=lambda k: per_backbone[k]["ratio"])
    result = evaluate(PREREG, statistic=per_backbone[worst]["dip"],
                      p_value=per_backbone[worst]["p"],
                      effect_size=per_backbone[weakest]["ratio"], ci=per_backbone[weakest]["ci"],
                      n=per_backbone[worst]["n"], details={"backbones": per_backbone})
    if result.verdict != INCONCLUSIVE:
        result = require(result, all(v["bic_delta"] > 10.0 for v in per_backbone.values()),
                         "BIC margin not > 10 at a backbone's best deeper block")
        result = require(result, all(v["initial_p"] >= PREREG.alpha
                                     for v in per_backbone.values()),
                         "an initial block shows significant bimodality")
    result = record_claim(result, tuple(figures), smoke_xfail=SMOKE_XFAIL)
    assert_replicated(result)
