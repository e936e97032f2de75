"""C1 (two modes) and C1s (lower spread in the high-density mode) on planted class sets."""

from __future__ import annotations

import numpy as np
import pytest

from modes.decisions.two_modes import LayerValues, ashman_d, decide_low_spread, decide_two_modes
from modes.stats.modality import MixtureBIC
from modes.stats.planted import two_mode_classes


def _values(spread_ratio: float, separation: float, seed: int, stages: int = 2) -> LayerValues:
    rng = np.random.default_rng(seed)
    per_stage = [two_mode_classes(rng, 100, 50, separation=separation,
                                  spread_ratio=spread_ratio)[0] for _ in range(stages)]
    labels = np.repeat(np.arange(100), 50)
    return LayerValues([f"s{i}" for i in range(stages)],
                       [np.concatenate(sets) for sets in per_stage], labels)


def test_two_modes_with_equal_spread_replicate_c1_but_not_c1s() -> None:
    values = _values(spread_ratio=1.0, separation=8.0, seed=0)
    c1, c1s = decide_two_modes(values), decide_low_spread(values)
    assert c1.verdict == "replicated" and c1.effect_size > 2.0
    assert c1s.verdict == "not replicated" and c1s.effect_size < 3.0


def test_two_modes_with_an_order_of_magnitude_lower_spread_replicate_both() -> None:
    values = _values(spread_ratio=10.0, separation=8.0, seed=1)
    assert decide_two_modes(values).verdict == "replicated"
    c1s = decide_low_spread(values)
    assert c1s.verdict == "replicated" and c1s.p_value < 0.01 and c1s.effect_size > 3.0


def test_one_mode_replicates_neither_and_c1s_says_why() -> None:
    values = _values(spread_ratio=10.0, separation=0.0, seed=2)
    assert decide_two_modes(values).verdict == "not replicated"
    c1s = decide_low_spread(values)
    assert c1s.verdict == "not replicated" and "no two modes" in c1s.explanation


@pytest.mark.parametrize(("m", "s", "d"), [
    ((0.0, 4.0), (1.0, 1.0), 4.0),
    ((0.0, 2.0), (1.0, 1.0), 2.0),
    ((1.0, -1.0), (0.5, 2.0), 2.0 * np.sqrt(2) / np.hypot(0.5, 2.0))])
def test_ashman_d_is_the_standardised_distance_of_the_two_fitted_modes(
        m: tuple[float, float], s: tuple[float, float], d: float) -> None:
    bic = MixtureBIC(bic_one=0.0, bic_two=0.0, means=m, sds=s, weights=(0.5, 0.5), n=10)
    assert ashman_d(bic) == pytest.approx(d)


def test_c1_is_inconclusive_where_it_cannot_see_the_preregistered_effect() -> None:
    rng = np.random.default_rng(3)
    sets = two_mode_classes(rng, 20, 50, separation=8.0, spread_ratio=10.0)[0]
    values = LayerValues(["s0"], [np.concatenate(sets)], np.repeat(np.arange(20), 50))
    for decide in (decide_two_modes, decide_low_spread):
        result = decide(values)
        assert result.verdict == "inconclusive" and "underpowered" in result.explanation
        assert result.details["power"]["ci_low"] < 0.8
