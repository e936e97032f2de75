"""C5's decision: segmented regression, tested slope, intersection-union, planted controls."""

from __future__ import annotations

import numpy as np
import pytest
from rates import assert_power, assert_size

from modes.decisions import planted
from modes.decisions.calibration import replication_rate
from modes.decisions.memorization_jump import (
    PREREG,
    MemorizationBins,
    decide_memorization_jump,
)
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED
from modes.stats.piecewise import piecewise_step, transition_from_fractions

X8 = np.linspace(0.0, 1.0, 8)
HIGH8 = (X8 > 0.6).astype(float)  # transition midway between the 5th and 6th bins


def falling_then_flat(kink: float, jump: float = 0.0) -> MemorizationBins:
    """Issue 10's case: 8 noise-free bins, slope -0.3 up to ``kink``, then flat (+ ``jump``)."""
    y = 0.2 - 0.3 * np.minimum(X8 - kink, 0.0) + jump * (X8 > 0.6)
    return MemorizationBins(X8, HIGH8, y, np.full(8, 0.1), np.full(8, 250))


def test_falling_then_flat_without_a_jump_shows_no_jump() -> None:
    t = transition_from_fractions(X8, HIGH8)
    result = decide_memorization_jump(falling_then_flat(kink=t))
    assert abs(result.effect_size) < 1e-9
    assert result.verdict == NOT_REPLICATED
    assert result.details["transition"] == pytest.approx(t)


def test_the_issue_numbers_no_longer_give_a_jump_near_the_threshold() -> None:
    bins = falling_then_flat(kink=0.6)  # kink at 0.6, between the two bins around t = 0.643
    common = piecewise_step(X8, bins.memorization_mean, 0.6, separate_slopes=False)
    assert common.jump.estimate == pytest.approx(0.049, abs=5e-4)  # the former model
    result = decide_memorization_jump(bins)
    assert result.verdict == NOT_REPLICATED
    assert result.effect_size < 0.015  # at most slope * (t - kink): a kink, not a jump


def test_a_planted_jump_after_a_falling_slope_replicates() -> None:
    result = decide_memorization_jump(planted.memorization_bins(
        np.random.default_rng(0), 8, jump=0.2, example_sd=0.05))
    assert result.verdict == REPLICATED and result.note == ""
    assert result.effect_size == pytest.approx(0.2, abs=0.03)
    assert set(result.details["conditions"]) == {"jump up at the transition",
                                                 "memorization falls before the transition"}
    assert result.p_value == max(c["p_value"] for c in result.details["conditions"].values())
    assert result.details["weights"] == "count/sd^2"


def test_a_jump_without_a_falling_slope_is_not_replicated() -> None:
    result = decide_memorization_jump(planted.memorization_bins(
        np.random.default_rng(1), 8, jump=0.2, slope_before=0.0, example_sd=0.05))
    assert result.verdict == NOT_REPLICATED
    assert "memorization falls before the transition not shown" in result.note


def test_bins_without_a_transition_are_inconclusive() -> None:
    flat = MemorizationBins(X8, np.zeros(8), np.zeros(8), np.ones(8), np.full(8, 250))
    result = decide_memorization_jump(flat)
    assert result.verdict == INCONCLUSIVE and "no low-to-high transition" in result.note
    one_after = MemorizationBins(X8, (X8 > 0.9).astype(float), X8, np.ones(8), np.full(8, 250))
    result = decide_memorization_jump(one_after)
    assert result.verdict == INCONCLUSIVE and "1 after" in result.note


def test_small_or_missing_sds_weight_by_count() -> None:
    bins = falling_then_flat(kink=0.6)
    few = MemorizationBins(X8, HIGH8, bins.memorization_mean, np.full(8, 0.1), np.full(8, 10))
    assert decide_memorization_jump(few).details["weights"] == "count"
    with pytest.raises(ValueError, match="differ in length"):
        MemorizationBins(X8, HIGH8[:-1], X8, X8, X8)


@pytest.mark.parametrize(("n_bins", "per_bin"), [(8, 250), (50, 1000)])
def test_null_false_positive_rate_is_alpha(n_bins: int, per_bin: int) -> None:
    """Falling, then flat, no jump (smoke and full sizes): replicated at most alpha + 2 se."""
    rate = replication_rate(decide_memorization_jump,
                            lambda rng: planted.memorization_bins(rng, n_bins, per_bin), 2000)
    assert_size(rate, PREREG.alpha)


def test_flat_before_the_transition_is_not_a_replication() -> None:
    """The slope part at its null (flat before the transition) with a large jump."""
    rate = replication_rate(decide_memorization_jump, lambda rng: planted.memorization_bins(
        rng, 8, jump=0.15, slope_before=0.0), 2000, seed=1)
    assert_size(rate, PREREG.alpha)


@pytest.mark.parametrize(("n_bins", "per_bin", "jump"), [(8, 250, 0.15), (50, 1000, 0.1)])
def test_power_at_a_planted_jump(n_bins: int, per_bin: int, jump: float) -> None:
    """Both parts planted: the jump and a fall of about 0.1 over the low-density bins."""
    rate = replication_rate(decide_memorization_jump, lambda rng: planted.memorization_bins(
        rng, n_bins, per_bin, jump=jump, slope_before=-0.006), 200, seed=2)
    assert_power(rate)
