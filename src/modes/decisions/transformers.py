"""C10's decision: modes in some deeper transformer block, none in the initial ones (A.9, A.10)."""

from __future__ import annotations

import attrs

from modes.decisions.two_modes import LayerValues
from modes.evidence import absence_numbers, layer_evidence, reference_effect, require
from modes.stats.claim import ClaimResult, Preregistration, evaluate

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


@attrs.frozen(eq=False)
class TransformerInput:
    """Per backbone, its blocks' log-densities (shallow first); the first half are "initial"."""

    backbones: dict[str, LayerValues]
    seed: int = 0


def decide_transformers(inp: TransformerInput, prereg: Preregistration = PREREG) -> ClaimResult:
    """Best deeper block per backbone (Bonferroni over blocks), intersection-union over
    backbones; side conditions: BIC margin > 10 there and no refuted absence in initial blocks."""
    per_backbone = {}
    for name, values in inp.backbones.items():
        half = len(values.layers) // 2
        initial, deeper = values.log_density[:half], values.log_density[half:]
        evidence = layer_evidence(list(deeper), values.labels)
        best = max(range(len(deeper)), key=lambda i: (evidence[i].dip.p_value < prereg.alpha,
                                                       evidence[i].ratio_or_zero))
        absence = absence_numbers(list(initial), values.labels,
                                  reference_effect(deeper[best], values.labels), prereg.alpha,
                                  seed=inp.seed)
        per_backbone[name] = {
            "p": min(1.0, evidence[best].dip.p_value * len(deeper)),
            "dip": evidence[best].dip.statistic, "ratio": evidence[best].ratio,
            "ci": evidence[best].ratio_ci, "bic_delta": evidence[best].bic.delta,
            "block": values.layers[half + best], "n": evidence[best].dip.n,
            "initial_p": absence["p_value"], "initial_ratio": absence["effect_size"],
        }
    worst = max(per_backbone, key=lambda k: per_backbone[k]["p"])
    weakest = min(per_backbone, key=lambda k: per_backbone[k]["ratio"])
    result = evaluate(prereg, statistic=per_backbone[worst]["dip"],
                      p_value=per_backbone[worst]["p"],
                      effect_size=per_backbone[weakest]["ratio"], ci=per_backbone[weakest]["ci"],
                      n=per_backbone[worst]["n"], details={"backbones": per_backbone})
    result = require(result, all(v["bic_delta"] > 10.0 for v in per_backbone.values()),
                     "BIC margin not > 10 at a backbone's best deeper block")
    return require(result, all(v["initial_p"] >= prereg.alpha for v in per_backbone.values()),
                   "an initial block shows significant bimodality")
