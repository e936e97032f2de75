"""Rank association, paired and two-sample comparisons, and stage growth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modes.stats import association as A
from modes.stats import planted


def test_spearman_matches_scipy_and_brackets_rho() -> None:
    x, y = planted.correlated(np.random.default_rng(0), 200, -0.6)
    res = A.spearman(x, y, "less")
    ref = stats.spearmanr(x, y, alternative="less")
    assert res.rho == pytest.approx(ref.statistic) and res.p_value == pytest.approx(ref.pvalue)
    assert res.ci_low < res.rho < res.ci_high < 0


def test_paired_effects() -> None:
    a, b = planted.paired(np.random.default_rng(1), 200, 0.5)
    res = A.paired_comparison(a, b, "less")
    assert res.p_value < 1e-4 and res.rank_biserial < 0
    assert res.ci_low < res.median_difference < res.ci_high < 0
    assert res.median_difference == pytest.approx(-0.5, abs=0.2)
    with pytest.raises(ValueError, match="identical"):
        A.paired_comparison(a, a)
    with pytest.raises(ValueError, match="same length"):
        A.paired_comparison(a, b[:-1])


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 2**16), st.integers(3, 30), st.integers(3, 30))
def test_rank_biserial_matches_the_u_statistic(seed: int, na: int, nb: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=na), rng.normal(0.5, size=nb)
    res = A.two_sample_ranks(a, b, n_boot=200)
    u = stats.mannwhitneyu(a, b).statistic
    assert res.rank_biserial == pytest.approx(2 * u / (na * nb) - 1)
    assert -1 <= res.ci_low <= res.ci_high <= 1


def test_bootstrap_cis_are_seeded_percentile_intervals() -> None:
    a, b = planted.paired(np.random.default_rng(6), 60, 0.3)

    def ci(seed: int, n_boot: int = 2000) -> tuple[float, float]:
        res = A.paired_comparison(a, b, n_boot=n_boot, seed=seed)
        return res.ci_low, res.ci_high

    assert ci(1) == ci(1) != ci(2)
    # against a plain resample-the-units percentile bootstrap (Monte Carlo tolerance)
    d = a - b
    idx = np.random.default_rng(7).integers(0, d.size, (20_000, d.size))
    expected = np.percentile(np.median(d[idx], axis=1), [2.5, 97.5])
    np.testing.assert_allclose(ci(0, 20_000), expected, atol=0.05)


def test_welch_hedges_g() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 300)
    res = A.welch(a, b, "greater")
    assert res.hedges_g == pytest.approx(1.0, abs=0.15)
    assert res.ci_low < res.hedges_g < res.ci_high and res.p_value < 1e-10
    with pytest.raises(ValueError, match="zero variance"):
        A.welch(np.ones(5), np.ones(4))


def test_class_bootstrap_weights_are_pairs_among_resampled_classes() -> None:
    pairs = planted.class_pairs(5)
    w = A.class_bootstrap_weights(pairs, np.random.default_rng(3), 50)
    assert w.shape == (50, 20) and np.all(w >= 0)
    # ordered pairs P != Q among the drawn classes: (sum of counts)^2 - sum of squared counts
    c = np.random.default_rng(4).multinomial(5, np.full(5, 0.2)).astype(float)
    w1 = A.class_bootstrap_weights(pairs, np.random.default_rng(4), 1)[0]
    assert w1.sum() == pytest.approx(c.sum() ** 2 - (c**2).sum())
    assert w1 == pytest.approx(c[pairs[:, 0]] * c[pairs[:, 1]])


def test_per_class_means() -> None:
    pairs = planted.class_pairs(3)
    values = np.arange(6.0)
    means = A.per_class_means(values, pairs)
    for k in range(3):
        involved = (pairs[:, 0] == k) | (pairs[:, 1] == k)
        assert means[k] == pytest.approx(values[involved].mean())
    with pytest.raises(ValueError, match="shape"):
        A.per_class_means(values, pairs[:-1])


def test_stage_growth_finds_the_planted_largest_increase() -> None:
    kl, pairs = planted.stage_kl(np.random.default_rng(5), 20, (1.0, 2.0, 8.0, 10.0))
    res = A.stage_growth(kl, pairs, target=1, n_boot=500)
    assert res.largest == 1 and res.prob_largest > 0.99
    assert res.ci_low > 0 and res.p_value < 0.01 and res.n_classes == 20
    other = A.stage_growth(kl, pairs, target=2, n_boot=500)
    assert other.margin < 0 and other.p_value > 0.5
    with pytest.raises(ValueError, match="target"):
        A.stage_growth(kl, pairs, target=3)
    with pytest.raises(ValueError, match="stages"):
        A.stage_growth(kl[:2], pairs)
