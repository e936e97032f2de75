"""Pre-registration validation and the verdict semantics of ``decide``."""

from __future__ import annotations

import math

import pytest

from modes.stats.claim import (
    EXPECTED_FAIL,
    INCONCLUSIVE,
    NOT_REPLICATED,
    REPLICATED,
    ClaimResult,
    Preregistration,
    decide,
    evaluate,
    expected_fail,
)

PRESENCE = Preregistration(claim_id="C1", hypothesis="two modes", paper_ref="Fig. 1",
                           test="dip test", effect_name="spread ratio", effect_threshold=3.0,
                           effect_direction="greater", kind="presence", alpha=0.01)
ABSENCE = Preregistration(claim_id="C2", hypothesis="no modes", paper_ref="Fig. A.7",
                          test="dip test", effect_name="separation", effect_threshold=4.0,
                          effect_direction="greater", kind="absence", alpha=0.01)


@pytest.mark.parametrize(("p", "effect", "verdict"), [
    (0.001, 10.0, REPLICATED),
    (0.001, 2.0, NOT_REPLICATED),     # significant but the effect is below the threshold
    (0.2, 10.0, NOT_REPLICATED),      # large effect, not significant
    (0.01, 10.0, NOT_REPLICATED),     # p must be strictly below alpha
])
def test_presence_needs_significance_and_effect(p: float, effect: float, verdict: str) -> None:
    assert decide(PRESENCE, 1.0, p, effect, (effect - 1, effect + 1)) == verdict


@pytest.mark.parametrize(("p", "effect", "ci", "power", "verdict"), [
    (0.001, 8.0, (6.0, 10.0), None, NOT_REPLICATED),   # the absent thing is there
    (0.5, 1.0, (0.0, 2.0), None, REPLICATED),          # CI below the threshold: equivalence
    (0.5, 1.0, (0.0, 6.0), 0.95, REPLICATED),          # not significant with adequate power
    (0.5, 1.0, (0.0, 6.0), 0.5, INCONCLUSIVE),         # not significant, underpowered
    (0.5, 1.0, (0.0, 6.0), None, INCONCLUSIVE),        # no power, no equivalence
    (0.001, 1.0, (0.5, 6.0), 0.99, INCONCLUSIVE),      # significant but small, CI too wide
])
def test_absence_needs_power_or_equivalence(p: float, effect: float, ci: tuple[float, float],
                                            power: float | None, verdict: str) -> None:
    assert decide(ABSENCE, 1.0, p, effect, ci, power) == verdict


def test_directions_less_and_abs() -> None:
    less = Preregistration("C7", "radius drops", "Fig. 3", "OLS", "jump", -0.1, "less")
    assert decide(less, -3.0, 1e-4, -0.2, (-0.3, -0.15)) == REPLICATED
    assert decide(less, -3.0, 1e-4, -0.05, (-0.1, 0.0)) == NOT_REPLICATED
    both = Preregistration("C6", "association", "Fig. 3", "Spearman", "rho", 0.3, "abs")
    assert decide(both, 1.0, 1e-4, -0.5, (-0.7, -0.3)) == REPLICATED
    eq = Preregistration("C3", "uniform", "Fig. A.8", "dip", "d", 0.3, "abs", kind="absence")
    assert decide(eq, 1.0, 0.6, 0.05, (-0.2, 0.25)) == REPLICATED


def test_nan_numbers_are_inconclusive() -> None:
    assert decide(PRESENCE, math.nan, 0.001, 10.0, (9.0, 11.0)) == INCONCLUSIVE
    assert decide(PRESENCE, 1.0, math.nan, 10.0, (9.0, 11.0)) == INCONCLUSIVE


@pytest.mark.parametrize(("field", "value"), [("alpha", 0.0), ("alpha", 1.5),
                                              ("kind", "maybe"), ("effect_direction", "up"),
                                              ("effect_threshold", math.inf), ("claim_id", "")])
def test_preregistration_rejects_bad_values(field: str, value: object) -> None:
    kwargs = {"claim_id": "C1", "hypothesis": "h", "paper_ref": "Fig. 1", "test": "t",
              "effect_name": "e", "effect_threshold": 1.0, "effect_direction": "greater"}
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        Preregistration(**kwargs)  # type: ignore[arg-type]


def test_decide_rejects_bad_p_and_power() -> None:
    with pytest.raises(ValueError, match="p must"):
        decide(PRESENCE, 1.0, 1.5, 1.0, (0.0, 2.0))
    with pytest.raises(ValueError, match="power must"):
        decide(ABSENCE, 1.0, 0.5, 1.0, (0.0, 2.0), power=2.0)


def test_evaluate_and_expected_fail_keep_the_numbers() -> None:
    res = evaluate(PRESENCE, statistic=0.2, p_value=0.2, effect_size=1.5, ci=(1.0, 2.0), n=20,
                   scale="smoke", components={"backbone": "resnet18"}, details={"gap": 3.0})
    assert res.verdict == NOT_REPLICATED and res.claim_id == "C1"
    marked = expected_fail(res, "20 classes: dip power 0.43 against the C1 effect")
    assert marked.verdict == EXPECTED_FAIL
    assert marked.details["measured_verdict"] == NOT_REPLICATED
    assert (marked.p_value, marked.effect_size, marked.n) == (0.2, 1.5, 20)
    with pytest.raises(ValueError, match="reason"):
        expected_fail(res, "")
    with pytest.raises(ValueError, match="verdict"):
        ClaimResult(prereg=PRESENCE, statistic=1.0, p_value=0.1, effect_size=1.0, ci_low=0.0,
                    ci_high=2.0, n=3, verdict="probably")
