"""Dip test, 1-D mixture BIC, spread ratio and the two-mode rule on fixed fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modes.stats import modality, planted


def test_dip_separates_a_balanced_bimodal_sample_from_a_normal_one() -> None:
    rng = np.random.default_rng(0)
    bimodal = np.concatenate([rng.normal(0, 1, 50), rng.normal(8, 1, 50)])
    assert modality.dip_test(bimodal).p_value < 1e-3
    assert modality.dip_test(rng.normal(0, 1, 100)).p_value > 0.05


def test_mixture_bic_recovers_planted_components() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 1, 70), rng.normal(10, 0.5, 30)])
    fit = modality.mixture_bic(x)
    assert fit.delta > 50
    assert fit.means[0] == pytest.approx(0.0, abs=0.4)
    assert fit.means[1] == pytest.approx(10.0, abs=0.4)
    assert fit.sds[1] == pytest.approx(0.5, abs=0.2)
    assert fit.weights[1] == pytest.approx(0.3, abs=0.02)
    assert modality.mixture_bic(rng.normal(0, 1, 100)).delta < 0


@settings(deadline=None, max_examples=25)
@given(st.floats(0.1, 100.0), st.floats(-1e3, 1e3), st.integers(0, 2**16))
def test_dip_and_bic_are_location_scale_invariant(scale: float, shift: float, seed: int) -> None:
    x = np.random.default_rng(seed).normal(0, 1, 30)
    y = shift + scale * x
    assert modality.dip_test(y).statistic == pytest.approx(modality.dip_test(x).statistic,
                                                           rel=1e-6, abs=1e-9)
    dx = modality.mixture_bic(x).delta
    assert modality.mixture_bic(y).delta == pytest.approx(dx, abs=1e-3 * max(1.0, abs(dx)))


def test_spread_ratio_and_evidence_on_a_planted_two_mode_set() -> None:
    sets, high = planted.two_mode_classes(np.random.default_rng(2), 100, 50, 0.3, 8.0, 10.0)
    ev = modality.two_mode_evidence(sets)
    assert np.array_equal(modality.class_means(sets) > ev.threshold, high)
    assert ev.spread is not None and ev.n_high == 30
    assert ev.spread.ci_low < 10.0 < ev.spread.ci_high
    assert ev.spread.n_high == 30 and ev.spread.n_low == 70
    assert ev.dip.p_value < 1e-3 and ev.bic.delta > 10
    assert modality.TwoModeRule(alpha=0.01)(modality.class_means(sets))


def test_evidence_without_a_spread_when_the_gap_isolates_one_class() -> None:
    rng = np.random.default_rng(3)
    sets = [rng.normal(m, 1.0, 20) for m in [*rng.normal(0, 1, 19), 30.0]]
    ev = modality.two_mode_evidence(sets)
    assert ev.n_high == 1 and ev.spread is None


def test_spread_ratio_needs_two_classes_per_group() -> None:
    sets = [np.arange(5.0) * (i + 1) for i in range(4)]
    with pytest.raises(ValueError, match="at least 2 classes"):
        modality.spread_ratio(sets, [True, False, False, False])
    with pytest.raises(ValueError, match="one entry per class"):
        modality.spread_ratio(sets, [True, False])


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        modality.dip_test([1.0, 2.0])
    with pytest.raises(ValueError, match="zero variance"):
        modality.mixture_bic(np.ones(10))
    with pytest.raises(ValueError, match="alpha"):
        modality.TwoModeRule(alpha=2.0)


def test_mixture_bic_is_in_the_sample_units_with_the_sd_floor() -> None:
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0, 1, 40), np.full(10, 6.0)])  # a point mass at 6
    fit = modality.mixture_bic(x, sd_floor_fraction=0.05)
    floor = 0.05 * x.std()
    sd_one = np.sqrt(x.var() + floor**2)  # reg_covar adds the floor to the variance
    loglik_one = stats.norm.logpdf(x, x.mean(), sd_one).sum()
    assert fit.bic_one == pytest.approx(-2 * loglik_one + 2 * np.log(x.size), rel=1e-9)
    assert fit.sds[1] == pytest.approx(floor, rel=1e-3)  # the point mass sits on the floor
    assert fit.means[1] == pytest.approx(6.0, abs=1e-6) and fit.weights[1] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="sd_floor_fraction"):
        modality.mixture_bic(x, sd_floor_fraction=0.0)
