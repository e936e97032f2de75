"""C6's decision: Spearman over bins with a permutation p-value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rates import assert_power, assert_size
from scipy import stats

from modes.decisions import planted
from modes.decisions.calibration import replication_rate
from modes.decisions.fscore_tracking import (
    PREREG,
    TrackingBins,
    decide_fscore_tracking,
    rank_correlation_p,
)
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED


def test_perfect_order_has_the_exact_p_of_one_pairing_in_8_factorial() -> None:
    result = decide_fscore_tracking(TrackingBins(np.arange(8.0), -np.arange(8.0)))
    assert result.effect_size == pytest.approx(-1.0)
    assert result.p_value == pytest.approx(1 / math.factorial(8))  # the t approximation gave 0
    assert result.details["exact"] is True
    # 8 bins cannot see the pre-registered correlation of -0.9 with power 0.8: the gate decides
    power = result.details["power"]
    assert result.verdict == INCONCLUSIVE and power["ci_low"] < 0.8
    assert "underpowered" in result.explanation and "8 bins" in power["design"]


def test_the_gate_passes_from_about_ten_bins_and_records_its_power() -> None:
    result = decide_fscore_tracking(TrackingBins(np.arange(20.0), -np.arange(20.0)))
    assert result.verdict == REPLICATED
    assert result.details["power"]["ci_low"] >= 0.8 and result.power is not None


@pytest.mark.parametrize("n", [6, 7, 12])
def test_p_value_matches_scipy_permutation_test_of_spearmanr(n: int) -> None:
    rng = np.random.default_rng(n)
    x, y = rng.random(n), rng.random(n) - np.arange(n) / n
    rho, p, exact = rank_correlation_p(x, y)
    ref = stats.permutation_test((y,), lambda v: stats.spearmanr(x, v).statistic,
                                 permutation_type="pairings", vectorized=False,
                                 n_resamples=np.inf if n <= 8 else 5000, alternative="less",
                                 rng=np.random.default_rng(1))
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert exact == (n <= 8)
    assert p == (pytest.approx(ref.pvalue) if exact else pytest.approx(ref.pvalue, abs=0.03))


def test_ties_run_the_permutation_on_the_data() -> None:
    x = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    rho, p, _ = rank_correlation_p(x, -np.arange(8.0))
    assert rho == pytest.approx(stats.spearmanr(x, -np.arange(8.0)).statistic)
    assert p == pytest.approx(2 / math.factorial(8))  # the two orders of the tied bins


def test_constant_or_too_few_bins_are_inconclusive_and_weak_rho_is_not_replicated() -> None:
    assert decide_fscore_tracking(TrackingBins(np.ones(8), np.arange(8.0))).verdict == \
        INCONCLUSIVE
    assert decide_fscore_tracking(TrackingBins(np.arange(3.0), np.arange(3.0))).verdict == \
        INCONCLUSIVE
    y = -np.arange(50.0) + 40 * np.random.default_rng(0).standard_normal(50)
    weak = decide_fscore_tracking(TrackingBins(np.arange(50.0), y))
    assert weak.verdict == NOT_REPLICATED and -0.5 < weak.effect_size < 0


@pytest.mark.parametrize("n_bins", [8, 50])
def test_null_false_positive_rate_is_alpha(n_bins: int) -> None:
    rate = replication_rate(decide_fscore_tracking,
                            lambda rng: planted.tracking_bins(rng, n_bins, coupling=0.0), 2000)
    assert_size(rate, PREREG.alpha)


@pytest.mark.parametrize("n_bins", [20, 50])
def test_power_when_fscore_follows_memorization(n_bins: int) -> None:
    rate = replication_rate(decide_fscore_tracking,
                            lambda rng: planted.tracking_bins(rng, n_bins, coupling=3.0), 200,
                            seed=1)
    assert_power(rate)
