"""C10's decision: modes in some deeper transformer block, none in the initial ones (A.9, A.10).

Block selection happens inside the multiplicity correction: per backbone, the block is the one
with the smallest dip p-value among the deeper blocks that meet the effect conditions (BIC
margin > 10, spread ratio >= 3), and its p-value is multiplied by the number of deeper blocks
*before* selection. That is Bonferroni over all deeper blocks: under the null, the chance that
any block's p falls below alpha / k is at most alpha, whichever block the conditions pick, so
choosing the block by its effect first (as the former decision did, ranking blocks by spread
ratio) cannot inflate the size. Backbones combine by intersection-union (max p).

"No modes in the initial blocks" is an absence claim and is decided as C2 is
(:func:`modes.decisions.no_modes.decide_no_modes`): it holds only when the dip is not
significant at any initial block **and** its power against the pre-registered effect
(:data:`modes.decisions.no_modes.REFERENCE`) is at least 0.8 (lower bound). A non-significant
dip alone no longer counts; the reference is fixed, not the deeper block's own effect.
"""

from __future__ import annotations

import attrs
import numpy as np

from modes.decisions.no_modes import _TEST, ASHMAN_D, AbsenceInput, decide_no_modes
from modes.decisions.two_modes import BIC_MARGIN, LayerValues
from modes.evidence import layer_evidence, require
from modes.stats.claim import (
    INCONCLUSIVE,
    NOT_REPLICATED,
    REPLICATED,
    ClaimResult,
    Preregistration,
    effect_beyond,
    evaluate,
)

PREREG = Preregistration(
    claim_id="C10",
    hypothesis="In every transformer backbone (ViT, MLP-Mixer) some deeper block shows two modes "
               "of class-mean log-densities with a large spread ratio, and the initial blocks show "
               "none",
    paper_ref="Figs. A.9, A.10",
    test="per backbone: dip test on class means at the deeper block with the smallest p among "
         "those with BIC margin > 10 and spread ratio >= 3, Bonferroni over all deeper blocks; "
         "across backbones intersection-union (max p); side condition: the initial blocks' "
         "absence of modes replicated (C2's decision)",
    effect_name="min over backbones of the selected deeper block's spread ratio",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="presence",
)

INITIAL = Preregistration(
    claim_id="C10-initial",
    hypothesis="The initial blocks of a transformer show no two modes of class-mean "
               "log-densities",
    paper_ref="Figs. A.9, A.10",
    test=_TEST.format(unit="initial block"),
    effect_name="Ashman's D of the two-Gaussian fit at the most bimodal initial block (where "
                "its dip rejects)",
    effect_threshold=ASHMAN_D,
    effect_direction="greater",
    kind="absence",
)


@attrs.frozen(eq=False)
class TransformerInput:
    """Per backbone, its blocks' log-densities (shallow first); the first half are "initial"."""

    backbones: dict[str, LayerValues]
    seed: int = 0


@attrs.frozen
class BlockChoice:
    """One backbone's selected deeper block and its Bonferroni p over all ``k`` deeper blocks."""

    block: str
    p: float
    dip: float
    ratio: float
    ci: tuple[float, float]
    bic_delta: float
    qualifies: bool
    n: int
    k: int


def decide_transformers(inp: TransformerInput, prereg: Preregistration = PREREG) -> ClaimResult:
    """Per backbone the best qualifying deeper block, Bonferroni over all deeper blocks;
    intersection-union over backbones; side conditions: a qualifying block in every backbone,
    and every backbone's initial blocks' absence replicated (module docstring)."""
    chosen: dict[str, BlockChoice] = {}
    initial: dict[str, ClaimResult] = {}
    details: dict[str, dict[str, object]] = {}
    for name, values in inp.backbones.items():
        half = len(values.layers) // 2
        evidence = layer_evidence(list(values.log_density[half:]), values.labels)
        k = len(evidence)
        qualifies = [e.bic.delta > BIC_MARGIN and effect_beyond(prereg, e.ratio)
                     for e in evidence]
        best = min(range(k), key=lambda i: (not qualifies[i], evidence[i].dip.p_value))
        ev = evidence[best]
        chosen[name] = BlockChoice(block=values.layers[half + best],
                                   p=min(1.0, ev.dip.p_value * k), dip=ev.dip.statistic,
                                   ratio=ev.ratio, ci=ev.ratio_ci, bic_delta=ev.bic.delta,
                                   qualifies=qualifies[best], n=ev.dip.n, k=k)
        initial[name] = decide_no_modes(
            AbsenceInput(LayerValues(values.layers[:half], values.log_density[:half],
                                     values.labels), inp.seed), INITIAL)
        details[name] = {
            **attrs.asdict(chosen[name]), "block_dip_p": [e.dip.p_value for e in evidence],
            "initial_verdict": str(initial[name].verdict), "initial_p": initial[name].p_value,
            "initial_note": initial[name].explanation,
            "initial_power": initial[name].details.get("power", {})}
    worst = max(chosen.values(), key=lambda c: c.p)
    weakest = min(chosen.values(), key=lambda c: float(np.nan_to_num(c.ratio, nan=0.0)))
    result = evaluate(prereg, statistic=worst.dip, p_value=worst.p, effect_size=weakest.ratio,
                      ci=weakest.ci, n=worst.n, details={"backbones": details})
    result = require(result, all(c.qualifies for c in chosen.values()),
                     f"no deeper block with BIC margin > {BIC_MARGIN:g} and spread ratio >= "
                     f"{prereg.effect_threshold:g} in "
                     f"{[k for k, c in chosen.items() if not c.qualifies]}")
    for name, absent in initial.items():
        result = require(result, absent.verdict == REPLICATED,
                         f"{name}'s initial blocks: absence of modes {absent.verdict} "
                         f"({absent.explanation or f'Bonferroni dip p {absent.p_value:.3g}'})",
                         NOT_REPLICATED if absent.verdict == NOT_REPLICATED else INCONCLUSIVE)
    return result
