"""C10's decision on planted backbones: block selection inside Bonferroni, initial blocks decided
as an absence claim with its power gate, the presence part power-gated against its
pre-registered effect (one deeper block with Fig. 1's modes)."""

from __future__ import annotations

import numpy as np

from modes.decisions.transformers import (
    TransformerInput,
    decide_transformers,
    decide_transformers_core,
)
from modes.decisions.two_modes import LayerValues
from modes.stats import planted
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED

PER_CLASS = 20


def _backbone(rng: np.random.Generator, n_classes: int, modes_at: tuple[int, ...]) -> LayerValues:
    sets = [planted.two_mode_classes(rng, n_classes, PER_CLASS, separation=8.0,
                                     spread_ratio=10.0, example_sd=0.5)[0]
            if i in modes_at else planted.one_mode_classes(rng, n_classes, PER_CLASS,
                                                           example_sd=0.5)
            for i in range(4)]
    return LayerValues([f"block {i}" for i in range(4)], [np.concatenate(s) for s in sets],
                       np.repeat(np.arange(n_classes), PER_CLASS))


def test_modes_in_one_deeper_block_and_none_initially_replicate() -> None:
    rng = np.random.default_rng(0)
    result = decide_transformers(TransformerInput(
        {"vit": _backbone(rng, 150, (3,)), "mixer": _backbone(rng, 150, (2,))}))
    assert result.verdict == REPLICATED, result.explanation
    assert result.details["power"]["ci_low"] >= 0.8
    assert "[2, 2] deeper blocks" in result.details["power"]["design"]
    vit = result.details["backbones"]["vit"]
    assert vit["block"] == "block 3" and vit["k"] == 2
    assert vit["p"] == min(1.0, 2 * vit["block_dip_p"][1])  # selected, then multiplied by k
    assert vit["initial_verdict"] == "replicated"


def test_modes_in_an_initial_block_refute_the_claim() -> None:
    rng = np.random.default_rng(1)
    result = decide_transformers(TransformerInput({"vit": _backbone(rng, 100, (0, 3))}))
    assert result.verdict == NOT_REPLICATED and "initial blocks" in result.explanation


def test_initial_blocks_without_power_are_inconclusive() -> None:
    """20 classes: the dip could not see the pre-registered effect at the initial blocks, so a
    non-significant dip no longer counts as absence."""
    rng = np.random.default_rng(2)
    result = decide_transformers(TransformerInput({"vit": _backbone(rng, 20, (3,))}))
    assert result.verdict != REPLICATED
    assert "underpowered" in result.details["backbones"]["vit"]["initial_note"]


def test_no_modes_anywhere_is_not_replicated() -> None:
    """The ungated test (what the size control runs) says "not replicated", never
    "inconclusive": the initial blocks' absence gate passes at 100 classes."""
    rng = np.random.default_rng(3)
    verdicts = [decide_transformers_core(TransformerInput({"vit": _backbone(rng, 100, ())}))
                .verdict for _ in range(10)]
    assert REPLICATED not in verdicts and INCONCLUSIVE not in verdicts


def test_the_presence_part_is_underpowered_at_100_classes() -> None:
    """Modes at one of two deeper blocks of each backbone, Bonferroni over both, both backbones:
    the dip finds a 25% minority at 100 classes too rarely (power about 0.7), so even a clear
    planted effect is "inconclusive (underpowered)", with the power. The core (no presence gate)
    is inconclusive there too: the initial blocks' absence needs power 1 - alpha against C1's
    effect, which the dip reaches from about 150 classes; at 150 the core replicates."""
    rng = np.random.default_rng(4)
    inp = TransformerInput({"vit": _backbone(rng, 100, (3,)), "mixer": _backbone(rng, 100, (3,))})
    gated = decide_transformers(inp)
    assert gated.verdict == INCONCLUSIVE and "underpowered" in gated.explanation
    assert gated.details["power"]["ci_low"] < 0.8
    core = decide_transformers_core(inp)
    assert core.verdict == INCONCLUSIVE and "initial blocks" in core.explanation
    big = TransformerInput({"vit": _backbone(rng, 150, (3,)), "mixer": _backbone(rng, 150, (3,))})
    assert decide_transformers_core(big).verdict == REPLICATED
