"""Holm correction across claims."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from modes.stats.multiple import holm


def test_holm_step_down_by_hand() -> None:
    res = holm({"C1": 0.001, "C2": 0.02, "C3": 0.004, "C4": math.nan}, alpha=0.01)
    # sorted 0.001, 0.004, 0.02 -> 3 * 0.001, max(2 * 0.004, prev), max(1 * 0.02, prev)
    assert res.adjusted == pytest.approx({"C1": 0.003, "C3": 0.008, "C2": 0.02})
    assert res.reject == {"C1": True, "C3": True, "C2": False}
    assert "C4" not in res.adjusted


def test_empty_and_bad_inputs() -> None:
    assert holm({}).adjusted == {}
    with pytest.raises(ValueError, match="alpha"):
        holm({"C1": 0.1}, alpha=0.0)
    with pytest.raises(ValueError, match="C1"):
        holm({"C1": 1.5})


@settings(deadline=None, max_examples=20)  # statsmodels gc.collect()s on every call
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12), st.floats(0.001, 0.2))
def test_matches_statsmodels(ps: list[float], alpha: float) -> None:
    reject, adjusted, _, _ = multipletests(np.array(ps), alpha=alpha, method="holm")
    res = holm({f"C{i}": p for i, p in enumerate(ps)}, alpha)
    assert [res.adjusted[f"C{i}"] for i in range(len(ps))] == pytest.approx(adjusted.tolist())
    ours = [res.reject[f"C{i}"] for i in range(len(ps))]
    # statsmodels rejects on p <= alpha / (m - k + 1); we reject on adjusted p < alpha
    boundary = np.isclose(adjusted, alpha)
    assert [o for o, b in zip(ours, boundary, strict=True) if not b] == \
        [bool(r) for r, b in zip(reject, boundary, strict=True) if not b]
