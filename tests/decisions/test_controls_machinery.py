"""The control machinery: the sequential rule, its stopping points and the judging criteria
(no decision is run: trials are coin flips)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modes.decisions.controls import (
    CONTROLS,
    SMOKE_CONTROLS,
    ClaimControl,
    expected_failures,
    failures,
    judge,
    sequential_rate,
    sequential_state,
    size_bound,
    sprt_llr,
    unexpected_passes,
)
from modes.stats.claim import Preregistration


def _coin(p: float):  # type: ignore[no-untyped-def]
    return lambda rng: bool(rng.uniform() < p)


def _control(kind: str, defect: str = "") -> ClaimControl:
    prereg = Preregistration(claim_id="CX", hypothesis="h", paper_ref="r", test="t",
                             effect_name="e", effect_threshold=1.0, effect_direction="greater",
                             kind="presence")
    return ClaimControl("CX", kind, "coin", prereg, lambda x: x, lambda rng: None,
                        known_defect=defect)


def test_size_bound_tells_alpha_from_twice_alpha_at_2000() -> None:
    assert size_bound(0.01, 2000) == pytest.approx(0.01 + 2 * math.sqrt(0.0099 / 2000))
    assert size_bound(0.01, 2000) < 0.02


def test_sprt_stops_at_300_without_hits_and_quickly_on_many() -> None:
    assert sequential_state("null", 0, 200, 0.01, 2000) is None
    assert sequential_state("null", 0, 300, 0.01, 2000) == "SPRT accepted alpha"
    assert sequential_state("null", 10, 100, 0.01, 2000) == "SPRT accepted 2 alpha"
    assert sequential_state("null", 12, 1000, 0.01, 2000) is None
    assert sequential_state("null", 12, 2000, 0.01, 2000) == "at the cap"
    assert sprt_llr(0, 0, 0.01) == 0.0


def test_planted_rule_stops_on_a_clear_power() -> None:
    assert sequential_state("planted", 50, 50, 0.01, 1000) == "99% CI above 0.8"
    assert sequential_state("planted", 20, 50, 0.01, 1000) == "99% CI below 0.8"
    assert sequential_state("planted", 41, 50, 0.01, 1000) is None
    assert sequential_state("power", 10, 50, 0.01, 200) is None


@pytest.mark.parametrize(("p", "passes"), [(0.005, True), (0.04, False)])
def test_sequential_null_judges_clear_rates(p: float, passes: bool) -> None:
    hits, reps, why = sequential_rate(_coin(p), "null", 0.01, 2000, seed=1)
    result = judge(_control("null"), hits, reps, why)
    assert result.passed is passes, result.message()
    assert reps % 100 == 0 and reps <= 2000


def test_sequential_rule_size_at_alpha_and_twice_alpha() -> None:
    """The SPRT passes a rate of alpha most of the time and 2 alpha rarely (40 runs each)."""
    def passes(p: float, seed: int) -> bool:
        hits, reps, why = sequential_rate(_coin(p), "null", 0.01, 2000, seed=seed)
        return bool(judge(_control("null"), hits, reps, why).passed)
    assert sum(passes(0.01, s) for s in range(40)) >= 30
    assert sum(passes(0.02, s) for s in range(40)) <= 8


def test_judge_kinds_and_known_defects() -> None:
    null = judge(_control("null"), 1, 300)
    assert null.passed and null.bound == pytest.approx(size_bound(0.01, 300))
    assert null.mc_se == pytest.approx(math.sqrt(1 / 300 * 299 / 300 / 300))
    assert judge(_control("planted"), 79, 100).passed is False
    assert judge(_control("planted"), 80, 100).passed is True
    assert judge(_control("power"), 10, 100).passed is None
    bad = judge(_control("null", "being fixed"), 30, 100)
    good = judge(_control("null", "being fixed"), 0, 300)
    plain = judge(_control("null"), 30, 100)
    assert expected_failures([bad, good, plain]) == [bad]
    assert failures([bad, good, plain]) == [plain]
    assert unexpected_passes([bad, good, plain]) == [good]
    with pytest.raises(ValueError, match="hits"):
        judge(_control("null"), 5, 4)


def test_every_claim_has_a_null_and_a_planted_control_at_its_alpha() -> None:
    for claim in ("C1", "C1s", "C2", "C4", "C5", "C6", "C7", "C8", "C9", "C10"):
        kinds = {c.kind for c in CONTROLS if c.claim == claim}
        assert {"null", "planted"} <= kinds, claim
    assert all(c.alpha == c.prereg.alpha == 0.01 for c in CONTROLS)
    assert {c.claim for c in SMOKE_CONTROLS} >= {"C1", "C2", "C4", "C8", "C10"}


def test_each_control_draws_its_claims_input() -> None:
    """One trial of every smoke control runs its decision (cheap ones only: bins, KL, C4)."""
    rng = np.random.default_rng(0)
    for c in SMOKE_CONTROLS:
        if c.claim in ("C4", "C5", "C6", "C7", "C8", "C9"):
            assert isinstance(c.trial(rng), bool)
