"""C4's decision: non-Gaussianity (Eq. 4 minus the total correlation) higher in the high-density
classes, compactness by an equivalence test, intersection-union, power gate."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from rates import assert_power, assert_size
from scipy import stats

from modes.decisions import planted
from modes.decisions.calibration import replication_rate
from modes.decisions.complexity import (
    PREREG,
    ComplexityInput,
    ancova,
    decide_complexity,
    decide_complexity_core,
    welch_greater,
)
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED

BIG = 150


def test_a_planted_non_gaussianity_replicates() -> None:
    inp = planted.complexity_input(np.random.default_rng(0), BIG, ng_shift=3.0)
    result = decide_complexity(inp)
    assert result.verdict == REPLICATED and result.note == ""
    assert result.effect_size == pytest.approx(3.0, abs=1.0)
    assert set(result.details["conditions"]) == {
        "non-Gaussianity higher in the high-density classes",
        "high classes not more compact (distance ratio > 0.8)"}
    assert result.p_value == max(c["p_value"] for c in result.details["conditions"].values())
    assert result.details["power"]["ci_low"] >= 0.8
    assert "ancova_coefficient" in result.details["re_beyond_density"]


def test_correlated_gaussian_classes_are_denser_not_more_complex() -> None:
    """High-density classes that are correlated Gaussians: their Eq. 4 is their total correlation,
    far above the others', and their non-Gaussianity is the same: not replicated."""
    inp = planted.complexity_input(np.random.default_rng(1), BIG, tc_shift=5.0)
    means = inp.class_means
    high = means > (means.min() + means.max()) / 2  # the planted modes are 8 sd apart
    assert inp.relative_entropy[high].mean() > inp.relative_entropy[~high].mean() + 3.0
    result = decide_complexity(inp)
    assert result.verdict == NOT_REPLICATED
    assert "non-Gaussianity higher in the high-density classes not shown" in result.note


def test_more_compact_high_classes_fail_the_equivalence() -> None:
    result = decide_complexity(planted.complexity_input(
        np.random.default_rng(2), BIG, ng_shift=3.0, compact_shift=3.0))
    assert result.verdict == NOT_REPLICATED
    assert "not more compact" in result.note
    assert result.details["distance_ratio"] < 0.8


def test_small_runs_are_gated_with_their_power() -> None:
    """12 classes (3 high): the power against +3 sd is far under 0.8, so even a large planted
    effect is inconclusive, with the power recorded (at 20 classes, 5 high, it is about 0.8 and
    the gate passes or not with the run's NG sd ratio)."""
    result = decide_complexity(planted.complexity_input(np.random.default_rng(3), 12,
                                                        ng_shift=6.0))
    assert result.verdict == INCONCLUSIVE and "underpowered" in result.explanation
    assert result.details["power"]["ci_low"] < 0.8
    assert "low-density classes" in result.details["power"]["design"]


def test_too_few_classes_on_a_side_is_inconclusive() -> None:
    labels = np.repeat(np.arange(4), 3)
    values = np.repeat([0.0, 0.1, 0.2, 9.0], 3)
    result = decide_complexity(ComplexityInput(values, labels, np.zeros(4), np.ones(4),
                                               np.zeros(4)))
    assert result.verdict == INCONCLUSIVE and "1 high- and 3 low-density" in result.note


def test_an_undefined_total_correlation_is_inconclusive_and_named() -> None:
    inp = planted.complexity_input(np.random.default_rng(4), 20)
    tc = inp.total_correlation.copy()
    tc[3] = np.nan
    result = decide_complexity(ComplexityInput(inp.log_density, inp.labels,
                                               inp.relative_entropy, inp.mean_distance, tc))
    assert result.verdict == INCONCLUSIVE and "[3]" in result.note


def test_per_class_arrays_of_the_wrong_length_are_an_error() -> None:
    with pytest.raises(ValueError, match="total_correlation must hold one value per class"):
        ComplexityInput(np.zeros(6), np.repeat(np.arange(3), 2), np.zeros(3), np.ones(3),
                        np.zeros(2))


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-50, 50), seed=st.integers(0, 1000))
def test_what_second_moments_explain_does_not_move_the_test(shift: float, seed: int) -> None:
    """Adding any per-class total correlation to Eq. 4 and to the TC alike (classes that are
    more or less correlated Gaussians) leaves the non-Gaussianity test unchanged."""
    inp = planted.complexity_input(np.random.default_rng(seed), 30, ng_shift=1.0)
    extra = shift * np.random.default_rng(seed + 1).uniform(size=inp.total_correlation.size)
    base = decide_complexity_core(inp)
    moved = decide_complexity_core(ComplexityInput(
        inp.log_density, inp.labels, inp.relative_entropy + extra, inp.mean_distance,
        inp.total_correlation + extra))
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-6, abs=1e-6)
    assert moved.effect_size == pytest.approx(base.effect_size, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("tc_shift", [0.0, 5.0])
def test_null_false_positive_rate_is_alpha(tc_shift: float) -> None:
    """No non-Gaussianity difference (uncorrelated, or the high classes correlated Gaussians):
    the ungated test's size is at most alpha."""
    rate = replication_rate(decide_complexity_core, lambda rng: planted.complexity_input(
        rng, BIG, per_class=5, tc_shift=tc_shift), 2000)
    assert_size(rate, PREREG.alpha)


def test_power_at_the_preregistered_effect() -> None:
    rate = replication_rate(decide_complexity, lambda rng: planted.complexity_input(
        rng, BIG, per_class=5, ng_shift=3.0), 200, seed=1)
    assert_power(rate)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(6, 60))
def test_ancova_matches_statsmodels(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    high = np.arange(n) < max(2, n // 4)
    x = rng.standard_normal(n) + 8.0 * high
    y = rng.standard_normal(n) + 2.0 * high + 0.5 * x
    ref = sm.OLS(y, np.column_stack([np.ones(n), high.astype(float), x - x.mean()])).fit()
    fit = ancova(y, high, x)
    assert fit.coef == pytest.approx(ref.params[1], rel=1e-8, abs=1e-10)
    assert fit.se == pytest.approx(ref.bse[1], rel=1e-8)
    assert fit.slope == pytest.approx(ref.params[2], rel=1e-8, abs=1e-10)
    assert fit.df == ref.df_resid and fit.resid_sd == pytest.approx(np.sqrt(ref.scale))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), na=st.integers(2, 30), nb=st.integers(2, 30))
def test_welch_matches_scipy(seed: int, na: int, nb: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(na) + 0.3, 2.0 * rng.standard_normal(nb)
    ref = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    t, p = welch_greater(a, b)
    assert t == pytest.approx(ref.statistic, rel=1e-9) and p == pytest.approx(ref.pvalue, rel=1e-9)
