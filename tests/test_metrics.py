"""Macro F-score against scikit-learn's implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from modes.metrics import macro_f_score


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 60), st.integers(0, 10_000))
def test_macro_f_matches_sklearn(k: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    pred = rng.integers(0, k, n)
    expected = f1_score(truth, pred, labels=np.unique(truth), average="macro", zero_division=0)
    assert macro_f_score(truth, pred, k) == pytest.approx(expected)


def test_abstentions_count_as_errors() -> None:
    assert macro_f_score(np.array([0, 1]), np.array([-1, -1]), 2) == 0.0
    assert macro_f_score(np.array([0, 1]), np.array([0, 1]), 2) == 1.0


def test_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="one length"):
        macro_f_score(np.array([0, 1]), np.array([0]))


def test_unpredicted_and_unseen_classes() -> None:
    # class 2 is never predicted (F1 0); class 3 is predicted but absent from truth (no term)
    truth, pred = np.array([0, 0, 1, 2]), np.array([0, 3, 1, 1])
    assert macro_f_score(truth, pred, 4) == pytest.approx((2 / 3 + 2 / 3 + 0.0) / 3)


def test_labels_out_of_range() -> None:
    with pytest.raises(ValueError, match="must lie in"):
        macro_f_score(np.array([0, 2]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="must lie in"):
        macro_f_score(np.array([0, 1]), np.array([0, -2]))
