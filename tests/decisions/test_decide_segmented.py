"""Shared pieces of the decisions: the bin transition, bin weights, intersection-union, rates."""

from __future__ import annotations

import numpy as np
import pytest

from modes.decisions.calibration import Rate, replication_rate, size_bound
from modes.decisions.conjunction import Condition, intersection_union
from modes.decisions.segmented import NoTransition, bin_transition, bin_weights, segmented_fit
from modes.evidence import inconclusive
from modes.stats.claim import Preregistration

X = np.array([-3.0, -2.0, -1.0, 0.0])


def test_bin_transition_and_its_reason() -> None:
    assert bin_transition(X, np.array([0.1, 0.2, 0.9, 1.0])) == pytest.approx(-1.5)
    with pytest.raises(NoTransition, match=r"both mostly-low and mostly-high.*0\.8"):
        bin_transition(X, np.array([0.8, 0.9, 1.0, 1.0]))


def test_segmented_fit_needs_two_bins_a_side_and_residual_freedom() -> None:
    with pytest.raises(NoTransition, match="1 after"):
        segmented_fit(X, X, -0.5, "greater")
    with pytest.raises(NoTransition, match="degrees of freedom"):
        segmented_fit(X, X, -1.5, "greater")
    x = np.arange(5.0)
    fit = segmented_fit(x, np.where(x >= 2.5, 1.0, 0.0) + 0.01 * x**2, 2.5, "greater")
    assert fit.slope_after is not None and fit.df_resid == 1


def test_bin_weights() -> None:
    weights, kind = bin_weights(np.array([0.5, 1.0]), np.array([100, 400]))
    assert kind == "count/sd^2" and weights.tolist() == [400.0, 400.0]
    assert bin_weights(np.array([0.5, 1.0]), np.array([10, 400]))[1] == "count"
    assert bin_weights(np.array([0.5, np.nan]), np.array([100, 400]))[1] == "count"
    with pytest.raises(ValueError, match="at least one example"):
        bin_weights(np.array([0.5, 1.0]), np.array([0, 400]))


def test_intersection_union_takes_the_largest_p_and_names_the_failures() -> None:
    parts = [Condition("a", 3.0, 0.001, "a is big"), Condition("b", 1.0, 0.2, "b is small")]
    p, note = intersection_union(parts, 0.01)
    assert p == 0.2 and note == "b not shown (p=0.2; b is small)"
    assert intersection_union(parts[:1], 0.01) == (0.001, "")
    p, note = intersection_union([*parts, Condition("c", np.nan, np.nan, "untestable")], 0.01)
    assert np.isnan(p) and "c not shown" in note
    with pytest.raises(ValueError):
        intersection_union([], 0.01)


def test_rates_and_the_size_bound() -> None:
    assert size_bound(0.01, 2000) == pytest.approx(0.01 + 2 * np.sqrt(0.0099 / 2000))
    prereg = Preregistration("X", "h", "ref", "t", "e", 0.0, "greater")
    rate = replication_rate(lambda _: inconclusive(prereg, 0, "never"), lambda rng: None, 50)
    assert rate == Rate(0, 50) and rate.rate == 0.0 and rate.ci[0] == 0.0
    assert "0/50" in str(rate)
