"""Pre-registration validation and the verdict semantics of ``decide``, the one place a verdict
is set: the test, then the side conditions, then the family."""

from __future__ import annotations

import math

import attrs
import pytest

from modes.stats.claim import (
    INCONCLUSIVE,
    NOT_REPLICATED,
    REPLICATED,
    ClaimResult,
    Preregistration,
    decide,
    evaluate,
    require,
)
from modes.stats.verdict import Condition, FamilyWise, Verdict, parse_verdict

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
    assert decide(PRESENCE, 1.0, p, effect, (effect - 1, effect + 1)).verdict == verdict


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
    assert decide(ABSENCE, 1.0, p, effect, ci, power).verdict == verdict


def test_directions_less_and_abs() -> None:
    less = Preregistration("C7", "radius drops", "Fig. 3", "OLS", "jump", -0.1, "less")
    assert decide(less, -3.0, 1e-4, -0.2, (-0.3, -0.15)).verdict == REPLICATED
    assert decide(less, -3.0, 1e-4, -0.05, (-0.1, 0.0)).verdict == NOT_REPLICATED
    both = Preregistration("C6", "association", "Fig. 3", "Spearman", "rho", 0.3, "abs")
    assert decide(both, 1.0, 1e-4, -0.5, (-0.7, -0.3)).verdict == REPLICATED
    eq = Preregistration("C3", "uniform", "Fig. A.8", "dip", "d", 0.3, "abs", kind="absence")
    assert decide(eq, 1.0, 0.6, 0.05, (-0.2, 0.25)).verdict == REPLICATED


def test_nan_numbers_are_inconclusive() -> None:
    assert decide(PRESENCE, math.nan, 0.001, 10.0, (9.0, 11.0)).verdict == INCONCLUSIVE
    assert decide(PRESENCE, 1.0, math.nan, 10.0, (9.0, 11.0)).verdict == INCONCLUSIVE


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


def test_the_verdict_is_read_not_stored() -> None:
    res = evaluate(PRESENCE, statistic=0.2, p_value=0.2, effect_size=1.5, ci=(1.0, 2.0), n=20,
                   scale="smoke", components={"backbone": "resnet18"}, details={"gap": 3.0})
    assert res.verdict is Verdict.NOT_REPLICATED and res.claim_id == "C1"
    assert res.decision.by == "test" and res.explanation == ""
    assert res.expected is Verdict.REPLICATED and not res.as_expected
    with pytest.raises(TypeError, match="verdict"):
        ClaimResult(prereg=PRESENCE, statistic=1.0, p_value=0.1, effect_size=1.0, ci_low=0.0,
                    ci_high=2.0, n=3, verdict="replicated")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="p must"):
        evaluate(PRESENCE, statistic=1.0, p_value=2.0, effect_size=1.0, ci=(0.0, 2.0), n=3)
    with pytest.raises(ValueError, match="unknown verdict 'probably'"):
        attrs.evolve(res, expected="probably")


def test_verdict_values_are_the_record_strings() -> None:
    assert [v.value for v in Verdict] == ["replicated", "not replicated", "inconclusive"]
    assert Verdict.NOT_REPLICATED == "not replicated"
    assert f"{Verdict.INCONCLUSIVE}" == "inconclusive"
    assert parse_verdict("inconclusive") is INCONCLUSIVE
    with pytest.raises(ValueError, match="known"):
        parse_verdict("expected-fail at smoke")


REPLICATES = {"statistic": 5.0, "p_value": 1e-4, "effect_size": 5.0, "ci": (4.0, 6.0), "n": 10}


def test_the_first_failed_condition_sets_the_verdict() -> None:
    ok = evaluate(PRESENCE, **REPLICATES)  # type: ignore[arg-type]
    held = require(ok, True, "unused")
    assert held.verdict is REPLICATED and held.conditions == (Condition(True, "unused"),)
    down = require(require(held, False, "BIC margin 3 not > 10"), False, "second", INCONCLUSIVE)
    assert down.verdict is NOT_REPLICATED
    assert (down.decision.by, down.decision.reason) == ("condition", "BIC margin 3 not > 10")
    flagged = require(held, False, "2 classes flagged", INCONCLUSIVE)
    assert flagged.verdict is INCONCLUSIVE and flagged.explanation == "2 classes flagged"
    failed_test = require(evaluate(PRESENCE, **{**REPLICATES, "p_value": 0.5}),  # type: ignore[arg-type]
                          False, "never read")
    assert failed_test.verdict is NOT_REPLICATED and failed_test.decision.by == "test"
    with pytest.raises(ValueError, match="failed condition"):
        Condition(False, "cannot grant", REPLICATED)


def test_a_failed_precondition_decides_whatever_the_test_says() -> None:
    cannot_run = evaluate(PRESENCE, **{**REPLICATES, "statistic": math.nan})  # type: ignore[arg-type]
    assert cannot_run.verdict is INCONCLUSIVE
    given = require(cannot_run, False, "no two modes", precondition=True)
    assert given.verdict is NOT_REPLICATED and given.explanation == "no two modes"
    side = require(evaluate(PRESENCE, **REPLICATES), False, "side")  # type: ignore[arg-type]
    first = require(side, False, "no two modes", precondition=True)
    assert first.decision.reason == "no two modes"  # preconditions come before side conditions
    assert require(cannot_run, True, "two modes", precondition=True).verdict is INCONCLUSIVE


def test_the_family_takes_only_presence_replications_away() -> None:
    presence = evaluate(PRESENCE, **REPLICATES)  # type: ignore[arg-type]
    beaten = attrs.evolve(presence, family=FamilyWise(adjusted_p=0.04, alpha=0.01, size=10))
    assert beaten.verdict is NOT_REPLICATED and beaten.decision.by == "family"
    assert "Holm-adjusted p 0.04 over 10 claims" in beaten.explanation
    kept = attrs.evolve(presence, family=FamilyWise(adjusted_p=0.004, alpha=0.01, size=10))
    assert kept.verdict is REPLICATED
    absence = evaluate(ABSENCE, statistic=1.0, p_value=0.5, effect_size=1.0, ci=(0.0, 2.0), n=5)
    placed = attrs.evolve(absence, family=FamilyWise(adjusted_p=1.0, alpha=0.01, size=10))
    assert placed.verdict is REPLICATED  # the uncorrected test is the stricter one for absence
    failed = require(presence, False, "side condition")
    assert attrs.evolve(failed, family=beaten.family).decision.by == "condition"
    assert presence.family_verdicts == {REPLICATED, NOT_REPLICATED}
    assert absence.family_verdicts == {REPLICATED} and failed.family_verdicts == {NOT_REPLICATED}
    with pytest.raises(ValueError, match="alpha"):
        FamilyWise(adjusted_p=0.1, alpha=0.0, size=1)
