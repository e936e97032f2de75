"""Holm correction across claims, and the claims of one run placed in their family."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from modes.stats.claim import ClaimResult, Preregistration, evaluate
from modes.stats.multiple import family_wise, holm
from modes.stats.verdict import Verdict


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


def _claim(claim_id: str, p: float, run_id: str = "run") -> ClaimResult:
    prereg = Preregistration(claim_id=claim_id, hypothesis="h", paper_ref="r", test="t",
                             effect_name="e", effect_threshold=1.0, effect_direction="greater")
    return evaluate(prereg, statistic=1.0, p_value=p, effect_size=2.0, ci=(1.5, 2.5), n=5,
                    run_id=run_id)


def _adjusted(result: ClaimResult) -> tuple[float, int]:
    assert result.family is not None
    return result.family.adjusted_p, result.family.size


def test_family_wise_places_each_claim_of_one_run() -> None:
    placed = family_wise([_claim("C1", 0.001), _claim("C2", 0.006), _claim("C3", math.nan)],
                         alpha=0.01)
    c1, c2, c3 = placed
    assert _adjusted(c1) == (pytest.approx(0.002), 2) and c1.verdict is Verdict.REPLICATED
    assert _adjusted(c2) == (pytest.approx(0.006), 2) and c2.verdict is Verdict.REPLICATED
    assert math.isnan(_adjusted(c3)[0]) and c3.verdict is Verdict.INCONCLUSIVE
    again = family_wise(placed, alpha=0.001)  # placing anew replaces the family
    assert [r.verdict for r in again] == [Verdict.NOT_REPLICATED] * 2 + [Verdict.INCONCLUSIVE]
    assert family_wise([]) == []


def test_family_wise_refuses_mixed_runs_and_repeated_claims() -> None:
    with pytest.raises(ValueError, match="one run"):
        family_wise([_claim("C1", 0.001), _claim("C2", 0.001, run_id="other")])
    with pytest.raises(ValueError, match="unique"):
        family_wise([_claim("C1", 0.001), _claim("C1", 0.002)])
