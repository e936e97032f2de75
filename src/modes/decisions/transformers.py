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
(:data:`modes.decisions.no_modes.REFERENCE`) is at least 1 - alpha (lower bound,
:data:`modes.decisions.no_modes.ABSENCE_POWER`). A non-significant
dip alone no longer counts; the reference is fixed, not the deeper block's own effect.

The presence part is power-gated too (:func:`modes.decisions.power_gate.power_gate`, issue 10
item 4): before its verdict is read, the power of the presence test itself (block selection and
Bonferroni over the deeper blocks included, intersection-union over the backbones) against
:data:`EFFECT` at this run's numbers of classes, examples per class and deeper blocks per
backbone is simulated; under a Clopper-Pearson lower bound of 0.8 the claim is ``inconclusive
(underpowered: power p at n)``, as C1 and C4-C9 are. :func:`decide_transformers_core` is the
decision without that gate (what the size controls run); the initial blocks' absence keeps its
own gate there, because that gate is the equivalence half of an absence test.
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from modes.decisions import two_modes
from modes.decisions.no_modes import (
    _TEST,
    ABSENCE_POWER,
    ASHMAN_D,
    AbsenceInput,
    decide_no_modes,
)
from modes.decisions.power_gate import GATE_REPS, power_gate
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
from modes.stats.planted import one_mode_classes, two_mode_classes
from modes.stats.power import PowerEstimate, TwoModeEffect, simulate_power

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
    min_power=ABSENCE_POWER,
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


EFFECT: TwoModeEffect = two_modes.EFFECT
"""The pre-registered effect the presence test must be able to see: in every backbone, **one**
deeper block with a quarter of the classes in a high-density mode 8 class-mean sds above the
others, with :data:`SPREAD_RATIO` (10) times smaller per-example sds; every other deeper block one
mode. Why these numbers: Figs. A.9 and A.10 are the paper's Fig. 1 read in transformer blocks
("the same two modes"), so C10's effect is C1's pre-registered one (Fig. 1's modes: a population
Ashman's D of 8, four times C1's bound, and a spread ratio far above C10's threshold of 3),
a fixed constant, not an output of C1 or of this run. One block, not all of them, because the
claim says "some deeper block": the least favourable alternative pays the Bonferroni factor of
every deeper block without a second block to find the modes in."""
SPREAD_RATIO = two_modes.SPREAD_RATIO
POWER_PER_CLASS_CAP = 50
"""Examples per class in the simulation: the run's smallest class, capped at 50 (more examples
only sharpen the class means and sds the test reads, so the cap never overstates power; it
bounds the simulation's cost)."""


def decide_transformers(inp: TransformerInput, prereg: Preregistration = PREREG) -> ClaimResult:
    """Per backbone the best qualifying deeper block, Bonferroni over all deeper blocks;
    intersection-union over backbones; power-gated against :data:`EFFECT` at this run's design;
    side conditions: a qualifying block in every backbone, and every backbone's initial blocks'
    absence replicated (module docstring)."""
    return _decide(inp, prereg, gated=True)


def decide_transformers_core(inp: TransformerInput, prereg: Preregistration = PREREG
                             ) -> ClaimResult:
    """C10 without the presence part's power gate: what its size controls run, so that their
    false-positive rate measures the test (the initial blocks' absence keeps its gate, the
    equivalence half of that test). The claim reports :func:`decide_transformers`."""
    return _decide(inp, prereg, gated=False)


def _split(values: LayerValues) -> tuple[LayerValues, LayerValues]:
    """The initial (first half) and deeper blocks of one backbone."""
    half = len(values.layers) // 2
    return (LayerValues(values.layers[:half], values.log_density[:half], values.labels),
            LayerValues(values.layers[half:], values.log_density[half:], values.labels))


def _presence(deeper: dict[str, LayerValues], prereg: Preregistration
              ) -> tuple[ClaimResult, dict[str, dict[str, object]]]:
    """The presence test on each backbone's deeper blocks (module docstring): the result with
    the qualifying-block condition, and the per-backbone details."""
    chosen: dict[str, BlockChoice] = {}
    details: dict[str, dict[str, object]] = {}
    for name, values in deeper.items():
        evidence = layer_evidence(list(values.log_density), values.labels)
        k = len(evidence)
        qualifies = [e.bic.delta > BIC_MARGIN and effect_beyond(prereg, e.ratio)
                     for e in evidence]
        best = min(range(k), key=lambda i: (not qualifies[i], evidence[i].dip.p_value))
        ev = evidence[best]
        chosen[name] = BlockChoice(block=values.layers[best],
                                   p=min(1.0, ev.dip.p_value * k), dip=ev.dip.statistic,
                                   ratio=ev.ratio, ci=ev.ratio_ci, bic_delta=ev.bic.delta,
                                   qualifies=qualifies[best], n=ev.dip.n, k=k)
        details[name] = {**attrs.asdict(chosen[name]),
                         "block_dip_p": [e.dip.p_value for e in evidence]}
    worst = max(chosen.values(), key=lambda c: c.p)
    weakest = min(chosen.values(), key=lambda c: float(np.nan_to_num(c.ratio, nan=0.0)))
    result = evaluate(prereg, statistic=worst.dip, p_value=worst.p, effect_size=weakest.ratio,
                      ci=weakest.ci, n=worst.n, details={"backbones": details})
    result = require(result, all(c.qualifies for c in chosen.values()),
                     f"no deeper block with BIC margin > {BIC_MARGIN:g} and spread ratio >= "
                     f"{prereg.effect_threshold:g} in "
                     f"{[k for k, c in chosen.items() if not c.qualifies]}")
    return result, details


def _decide(inp: TransformerInput, prereg: Preregistration, gated: bool) -> ClaimResult:
    halves = {name: _split(values) for name, values in inp.backbones.items()}
    result, details = _presence({name: h[1] for name, h in halves.items()}, prereg)
    initial = {name: decide_no_modes(AbsenceInput(h[0], inp.seed), INITIAL)
               for name, h in halves.items()}
    for name, absent in initial.items():
        details[name].update({
            "initial_verdict": str(absent.verdict), "initial_p": absent.p_value,
            "initial_note": absent.explanation,
            "initial_power": absent.details.get("power", {})})

    def absence(name: str, absent: ClaimResult, refuted: bool) -> ClaimResult:
        return require(result, absent.verdict == REPLICATED,
                       f"{name}'s initial blocks: absence of modes {absent.verdict} "
                       f"({absent.explanation or f'Bonferroni dip p {absent.p_value:.3g}'})",
                       NOT_REPLICATED if refuted else INCONCLUSIVE, precondition=refuted)

    # modes in an initial block refute the conjunction whatever the presence test's power:
    # they are read before the presence gate, the other absence outcomes after it
    for name, absent in initial.items():
        if absent.verdict == NOT_REPLICATED:
            result = absence(name, absent, True)
    if gated:
        result = _gate(result, {name: h[1] for name, h in halves.items()})
    for name, absent in initial.items():
        if absent.verdict != NOT_REPLICATED:
            result = absence(name, absent, False)
    return result


def _gate(result: ClaimResult, deeper: dict[str, LayerValues]) -> ClaimResult:
    labels = next(iter(deeper.values())).labels
    _, counts = np.unique(labels, return_counts=True)
    per_class = int(min(counts.min(), POWER_PER_CLASS_CAP))
    blocks = tuple(sorted(len(v.layers) for v in deeper.values()))
    estimate = _power(result.prereg, int(counts.size), per_class, blocks)
    design = (f"{counts.size} classes x {per_class} examples, {list(blocks)} deeper blocks per "
              f"backbone (Bonferroni over each), against {EFFECT.frac_high:.0%} of classes "
              f"{EFFECT.separation:g} sd higher with {SPREAD_RATIO:g}x smaller sds at one "
              f"deeper block of every backbone, class means as spread in both groups")
    return power_gate(result, estimate, design)


@functools.lru_cache(maxsize=32)
def _power(prereg: Preregistration, n_classes: int, per_class: int,
           blocks: tuple[int, ...]) -> PowerEstimate:
    """Power of the ungated presence test against :data:`EFFECT` at this design, seeded: per
    backbone ``k`` deeper blocks, the effect at the last, one mode at the others."""
    labels = np.repeat(np.arange(n_classes), per_class)

    def block(rng: np.random.Generator, effect: bool) -> np.ndarray:
        if effect:
            sets, _ = two_mode_classes(rng, n_classes, per_class, EFFECT.frac_high,
                                       EFFECT.separation, SPREAD_RATIO)
        else:
            sets = one_mode_classes(rng, n_classes, per_class)
        return np.concatenate(sets)

    def generate(rng: np.random.Generator) -> dict[str, LayerValues]:
        return {f"backbone {b}": LayerValues(
            [f"block {i + 1}" for i in range(k)],
            [block(rng, i == k - 1) for i in range(k)], labels)
            for b, k in enumerate(blocks)}

    return simulate_power(lambda d: _presence(d, prereg)[0].verdict == REPLICATED, generate,
                          GATE_REPS, seed=0)
