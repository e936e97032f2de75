"""Cluster-robust tests of means and differences with classes as clusters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modes.stats.clustered import clustered_difference, clustered_mean


def test_singleton_clusters_give_the_hc1_t_test() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0.3, 1.0, 50)
    res = clustered_mean(y, np.arange(50), alternative="greater")
    n = y.size
    se = np.sqrt(np.sum((y - y.mean()) ** 2) / n**2 * n / (n - 1) * (n - 1) / (n - 1))
    assert res.estimate == pytest.approx(y.mean()) and res.df == n - 1
    assert res.se == pytest.approx(se, rel=1e-6)
    assert res.p_value == pytest.approx(stats.t.sf(y.mean() / se, n - 1), rel=1e-6)


def test_shared_clusters_widen_the_error() -> None:
    rng = np.random.default_rng(1)
    cls = np.repeat(np.arange(10), 30)
    y = rng.normal(0, 1, 300) + 2.0 * rng.standard_normal(10)[cls]
    naive = clustered_mean(y, np.arange(300))
    robust = clustered_mean(y, cls)
    assert robust.se > 3 * naive.se and robust.df == 9 and robust.clusters == 10


def test_difference_and_edge_cases() -> None:
    a, b = np.ones(20), np.r_[np.ones(10), np.zeros(10)]
    groups = np.tile(np.arange(5), 4)
    res = clustered_difference(a, groups, b, groups, alternative="greater")
    assert res.estimate == pytest.approx(0.5) and res.p_value < 0.05
    assert clustered_mean(np.ones(10), np.arange(10), null=0.5, alternative="greater"
                          ).p_value == 0.0
    assert clustered_mean(np.ones(10), np.arange(10), null=1.0).p_value == 1.0
    with pytest.raises(ValueError, match="2 clusters"):
        clustered_mean(np.ones(5), np.zeros(5))
    with pytest.raises(ValueError, match="one cluster per value"):
        clustered_mean(np.ones(5), np.arange(4))
