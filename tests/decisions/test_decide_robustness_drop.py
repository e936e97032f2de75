"""C7's decision: segmented radius and F-score, abstentions counted once, tested abstention."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rates import assert_power, assert_size

from modes.decisions import planted
from modes.decisions.calibration import replication_rate
from modes.decisions.robustness_drop import PREREG, RobustnessBins, decide_robustness_drop
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED
from modes.stats.piecewise import piecewise_step

# the other parts present with power near 1 even at smoke size (the least favourable null)
STRONG: dict[str, Any] = {"radius_jump": -0.8, "fscore_jump": -0.5, "abstain_after": 0.8}


def bins(**changes: Any) -> RobustnessBins:
    """Noise-free bins: flat radius 0.4, F-score 0.7, abstention 0.4, 8 bins, 5 before."""
    x = np.linspace(-30.0, -5.0, 8)
    values: dict[str, Any] = {
        "log_density": x, "high_fraction": (np.arange(8) >= 5).astype(float),
        "radius_mean": np.full(8, 0.4), "radius_sd": np.full(8, 0.2),
        "certified_count": np.full(8, 100), "non_abstain_rate": np.full(8, 0.6),
        "smoothed_fscore": np.full(8, 0.7)}
    values.update(changes)
    return RobustnessBins(**values)


def test_an_all_abstaining_bin_is_not_a_radius_of_zero() -> None:
    rate = np.full(8, 0.6)
    rate[6] = 0.0
    radius = np.full(8, 0.4)
    radius[6] = np.nan
    inp = bins(non_abstain_rate=rate, radius_mean=radius)
    result = decide_robustness_drop(inp)
    assert result.details["bins_with_radius"] == 7
    assert abs(result.effect_size) < 1e-9  # no drop in the radii that exist
    zeroed = piecewise_step(inp.log_density, np.nan_to_num(radius), result.details["transition"],
                            jump_alternative="less")
    assert zeroed.jump.estimate < -0.1  # the former nan_to_num: the abstentions became a drop
    assert result.details["abstention_high_bins"] == pytest.approx(0.6)  # counted here, once


def test_all_three_parts_are_needed() -> None:
    rng = np.random.default_rng(0)
    result = decide_robustness_drop(planted.robustness_bins(rng, 50, 1000, **STRONG))
    assert result.verdict == REPLICATED and result.note == ""
    assert len(result.details["conditions"]) == 3
    assert result.p_value == max(c["p_value"] for c in result.details["conditions"].values())
    assert result.details["radius_weights"] == "count/sd^2"
    for part, change in (("certified radius drops", {"radius_jump": 0.0}),
                         ("smoothed F-score drops", {"fscore_jump": 0.0}),
                         ("abstention higher", {"abstain_after": 0.4})):
        result = decide_robustness_drop(planted.robustness_bins(rng, 50, 1000,
                                                                **{**STRONG, **change}))
        assert result.verdict == NOT_REPLICATED and f"{part}" in result.note, part


def test_inconclusive_without_a_transition_or_without_radii_after_it() -> None:
    result = decide_robustness_drop(bins(high_fraction=np.zeros(8)))
    assert result.verdict == INCONCLUSIVE and "no low-to-high transition" in result.note
    rate = np.where(np.arange(8) >= 6, 0.0, 0.6)
    result = decide_robustness_drop(bins(non_abstain_rate=rate))
    assert result.verdict == INCONCLUSIVE
    assert "2 bins without 2 answered inputs have no radius" in result.note
    with pytest.raises(ValueError, match="non-abstain rate"):
        bins(non_abstain_rate=np.full(8, 1.5))


@pytest.mark.parametrize("null", ["radius_jump", "fscore_jump", "abstain_after"])
def test_each_part_at_its_null_keeps_the_size(null: str) -> None:
    """Smoke size (8 bins, 30 certified inputs each); the other two parts strongly present."""
    changes = {**STRONG, null: 0.4 if null == "abstain_after" else 0.0}
    rate = replication_rate(decide_robustness_drop,
                            lambda rng: planted.robustness_bins(rng, 8, 30, **changes), 2000)
    assert_size(rate, PREREG.alpha)


def test_radius_null_at_full_size_keeps_the_size() -> None:
    changes = {**STRONG, "radius_jump": 0.0}
    rate = replication_rate(decide_robustness_drop,
                            lambda rng: planted.robustness_bins(rng, 50, 1000, **changes), 2000,
                            seed=1)
    assert_size(rate, PREREG.alpha)


def test_power_at_full_size() -> None:
    """50 bins, 1000 certified each: radius -0.1, F-score -0.08, abstention 0.40 -> 0.45."""
    rate = replication_rate(decide_robustness_drop, lambda rng: planted.robustness_bins(
        rng, 50, 1000, radius_jump=-0.1, fscore_jump=-0.08, abstain_after=0.45), 200, seed=2)
    assert_power(rate)
