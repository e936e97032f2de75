"""C4's decision: relative entropy beyond what mean log-density implies (ANCOVA), compactness by
an equivalence test, intersection-union, power gate."""

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
    _decide,
    ancova,
    decide_complexity,
    welch_greater,
)
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED

BIG = 150


def test_a_planted_complexity_beyond_density_replicates() -> None:
    inp = planted.complexity_input(np.random.default_rng(0), BIG, entropy_shift=3.0)
    result = decide_complexity(inp)
    assert result.verdict == REPLICATED and result.note == ""
    assert result.effect_size == pytest.approx(3.0, abs=1.5)  # its se is about 0.7 here
    assert set(result.details["conditions"]) == {
        "relative entropy higher at equal mean log-density",
        "high classes not more compact (distance ratio > 0.8)"}
    assert result.p_value == max(c["p_value"] for c in result.details["conditions"].values())
    assert result.details["power"]["ci_low"] >= 0.8


def test_relative_entropy_implied_by_density_is_not_complexity() -> None:
    """Issue 10: Eq. 4 is mean log-density plus the Gaussian's entropy, so high-density classes
    have larger relative entropy by construction; a Mann-Whitney of relative entropy between the
    groups (the former test) calls that "more complex" every time."""
    inp = planted.complexity_input(np.random.default_rng(1), BIG, implied=1.0)
    high = inp.class_means > np.median(inp.class_means)
    assert inp.relative_entropy[high].min() > inp.relative_entropy[~high].max() - 3.0
    result = decide_complexity(inp)
    assert result.verdict == NOT_REPLICATED
    assert "relative entropy higher at equal mean log-density not shown" in result.note


def test_more_compact_high_classes_fail_the_equivalence() -> None:
    result = decide_complexity(planted.complexity_input(
        np.random.default_rng(2), BIG, entropy_shift=3.0, compact_shift=3.0))
    assert result.verdict == NOT_REPLICATED
    assert "not more compact" in result.note
    assert result.details["distance_ratio"] < 0.8


def test_smoke_sized_runs_are_underpowered_whatever_they_show() -> None:
    """20 classes (about 5 high) with modes 8 sd apart leave the split nearly collinear with the
    covariate: power against +3 sd about 0.1, so the verdict is inconclusive, with the power."""
    result = decide_complexity(planted.complexity_input(np.random.default_rng(3), 20,
                                                        entropy_shift=6.0))
    assert result.verdict == INCONCLUSIVE and "underpowered" in result.explanation
    assert result.details["power"]["power"] < 0.5
    assert "low-density classes" in result.details["power"]["design"]


def test_too_few_classes_on_a_side_is_inconclusive() -> None:
    labels = np.repeat(np.arange(4), 3)
    values = np.repeat([0.0, 0.1, 0.2, 9.0], 3)
    result = decide_complexity(ComplexityInput(values, labels, np.zeros(4), np.ones(4)))
    assert result.verdict == INCONCLUSIVE and "1 high- and 3 low-density" in result.note


@settings(max_examples=30, deadline=None)
@given(slope=st.floats(-50, 50), seed=st.integers(0, 1000))
def test_the_part_implied_by_density_does_not_move_the_test(slope: float, seed: int) -> None:
    """Adding any multiple of the class-mean log-density to relative entropy (the mechanical
    part of Eq. 4) leaves the complexity test's statistic unchanged."""
    inp = planted.complexity_input(np.random.default_rng(seed), 30, entropy_shift=1.0)
    means = inp.class_means
    base = _decide(means, inp.relative_entropy, inp.mean_distance, PREREG)
    moved = _decide(means, inp.relative_entropy + slope * means, inp.mean_distance, PREREG)
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-6, abs=1e-6)
    assert moved.effect_size == pytest.approx(base.effect_size, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("implied", [0.0, 1.0])
def test_null_false_positive_rate_is_alpha(implied: float) -> None:
    """No complexity beyond density (unrelated, or fully implied by it): size at most alpha."""
    rate = replication_rate(decide_complexity, lambda rng: planted.complexity_input(
        rng, BIG, per_class=5, implied=implied), 2000)
    assert_size(rate, PREREG.alpha)


def test_power_at_the_preregistered_effect() -> None:
    rate = replication_rate(decide_complexity, lambda rng: planted.complexity_input(
        rng, BIG, per_class=5, entropy_shift=3.0), 200, seed=1)
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
