"""Class-jackknife inference on means over class pairs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modes.stats.class_pairs import class_jackknife
from modes.stats.planted import class_pairs


def test_matches_the_delete_one_class_formula() -> None:
    pairs = class_pairs(4)
    values = np.arange(len(pairs), dtype=float) ** 1.5
    res = class_jackknife(values, pairs, "greater", null=1.0)
    loo = np.array([values[(pairs != c).all(axis=1)].mean() for c in range(4)])
    se = np.sqrt(3 / 4 * np.sum((loo - loo.mean()) ** 2))
    assert res.mean == pytest.approx(values.mean()) and res.se == pytest.approx(se)
    assert res.t == pytest.approx((values.mean() - 1.0) / se) and res.df == 3
    assert res.p_value == pytest.approx(stats.t.sf(res.t, 3))
    q = stats.t.ppf(0.975, 3)
    assert (res.ci_low, res.ci_high) == pytest.approx((res.mean - q * se, res.mean + q * se))
    assert res.n_pairs == 12 and res.n_classes == 4


def test_alternatives_and_a_class_effect_widen_the_error() -> None:
    rng = np.random.default_rng(0)
    pairs = class_pairs(20)
    noise = rng.standard_normal(len(pairs))
    effect = 2.0 * rng.standard_normal(20)
    plain = class_jackknife(noise, pairs)
    shared = class_jackknife(noise + effect[pairs[:, 0]] + effect[pairs[:, 1]], pairs)
    assert shared.se > 5 * plain.se  # the class effect, not the 380 pairs, sets the error
    up = class_jackknife(noise + 1.0, pairs, "greater")
    down = class_jackknife(noise + 1.0, pairs, "less")
    both = class_jackknife(noise + 1.0, pairs, "two-sided")
    assert up.p_value < 1e-6 and down.p_value > 0.99
    assert both.p_value == pytest.approx(2 * up.p_value)


def test_constant_values_and_bad_inputs() -> None:
    pairs = class_pairs(3)
    assert class_jackknife(np.zeros(6), pairs).p_value == 1.0
    assert class_jackknife(np.ones(6), pairs, "greater").p_value == 0.0
    with pytest.raises(ValueError, match="3 classes"):
        class_jackknife([1.0, 2.0], class_pairs(2))
    with pytest.raises(ValueError, match="non-finite"):
        class_jackknife([1.0, np.nan, 0, 0, 0, 0], pairs)
    with pytest.raises(ValueError, match="different classes"):
        class_jackknife([1.0], [[0, 0]])
    with pytest.raises(ValueError, match="every class"):
        class_jackknife(np.ones(6), [[0, 2], [2, 0], [0, 3], [3, 0], [2, 3], [3, 2]])
    with pytest.raises(ValueError, match="alternative"):
        class_jackknife(np.ones(6), pairs, "bigger")  # type: ignore[arg-type]
