"""The claims' evidence functions on planted per-example log-densities with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from modes.evidence import (
    assert_replicated,
    inconclusive,
    layer_evidence,
    per_class,
    require,
)
from modes.stats import planted
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED, Preregistration, evaluate

PRESENCE = Preregistration(claim_id="T1", hypothesis="two modes", paper_ref="-", test="dip",
                           effect_name="ratio", effect_threshold=3.0, effect_direction="greater")
ABSENCE = Preregistration(claim_id="T2", hypothesis="no modes", paper_ref="-", test="dip",
                          effect_name="ratio", effect_threshold=3.0, effect_direction="greater",
                          kind="absence")


def flatten(sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate(sets)
    labels = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    return values, labels


def test_per_class_round_trip() -> None:
    sets = [np.arange(3.0), np.arange(5.0) + 10]
    values, labels = flatten(sets)
    for a, b in zip(per_class(values, labels), sets, strict=True):
        np.testing.assert_array_equal(a, b)


def test_planted_two_modes_are_found() -> None:
    sets, high = planted.two_mode_classes(np.random.default_rng(0), 100, 50, frac_high=0.5)
    values, labels = flatten(sets)
    (ev,) = layer_evidence([values], labels)
    assert ev.dip.p_value < 0.01 and ev.bic.delta > 10
    assert ev.n_high == high.sum()
    assert ev.ratio == pytest.approx(10, rel=0.3)
    assert ev.ratio_ci[0] < 10 < ev.ratio_ci[1]


def test_require_downgrades_only_replicated() -> None:
    ok = evaluate(PRESENCE, statistic=1.0, p_value=1e-4, effect_size=5.0, ci=(4.0, 6.0), n=10)
    assert ok.verdict == REPLICATED
    down = require(ok, False, "side condition failed (x=1)")
    assert down.verdict == NOT_REPLICATED and "x=1" in down.explanation
    assert require(ok, True, "unused").verdict == REPLICATED
    with pytest.raises(AssertionError, match=r"T1 not replicated.*x=1"):
        assert_replicated(down)


def test_inconclusive_explains_itself() -> None:
    result = inconclusive(PRESENCE, 3, "only 1 class qualifies")
    assert result.verdict == INCONCLUSIVE and np.isnan(result.p_value)
    with pytest.raises(AssertionError, match="only 1 class qualifies"):
        assert_replicated(result)
