"""Pre-registration and verdict objects shared by every claim.

A claim states, in code and before it sees data, its hypothesis, test, alpha and the effect size
it cares about (:class:`Preregistration`). After the test it records the numbers
(:class:`ClaimResult`) and a verdict from :func:`decide`:

* *presence* claims ("there are two modes") are ``replicated`` only when ``p < alpha`` **and** the
  effect lies beyond the pre-registered threshold in the pre-registered direction; otherwise
  ``not replicated``.
* *absence* claims ("there are no modes") are ``not replicated`` when the test is significant and
  the effect lies beyond the threshold; ``replicated`` when the effect's confidence interval lies
  entirely on the null side of the threshold (an equivalence bound) or when the test is not
  significant and its power against the reference effect is at least ``min_power``; and
  ``inconclusive`` otherwise (a non-significant test that could not have detected the effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

Kind = Literal["presence", "absence"]
Direction = Literal["greater", "less", "abs"]

REPLICATED: Final = "replicated"
NOT_REPLICATED: Final = "not replicated"
INCONCLUSIVE: Final = "inconclusive"
EXPECTED_FAIL: Final = "expected-fail at smoke"
VERDICTS: Final = (REPLICATED, NOT_REPLICATED, INCONCLUSIVE, EXPECTED_FAIL)

_KINDS: Final = ("presence", "absence")
_DIRECTIONS: Final = ("greater", "less", "abs")


def _check_alpha(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{attribute.name} must lie in (0, 1), got {value!r}")


def _check_member(options: tuple[str, ...]) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in options:
            raise ValueError(f"{attribute.name} must be one of {options}, got {value!r}")

    return check


@attrs.frozen
class Preregistration:
    """What a claim tests, fixed in code before the data are seen.

    ``effect_threshold`` and ``effect_direction`` say which effect sizes count: ``"greater"`` means
    effects >= threshold, ``"less"`` effects <= threshold, ``"abs"`` ``|effect|`` >= threshold.
    For an absence claim the same threshold is the smallest effect of interest: the claim holds by
    equivalence when the whole CI lies on the other side of it.
    """

    claim_id: str
    hypothesis: str
    paper_ref: str
    test: str
    effect_name: str
    effect_threshold: float
    effect_direction: Direction = attrs.field(validator=_check_member(_DIRECTIONS))
    kind: Kind = attrs.field(default="presence", validator=_check_member(_KINDS))
    alpha: float = attrs.field(default=0.01, validator=_check_alpha)
    min_power: float = attrs.field(default=0.8, validator=_check_alpha)

    def __attrs_post_init__(self) -> None:
        if not self.claim_id:
            raise ValueError("claim_id must be a non-empty string")
        if not math.isfinite(self.effect_threshold):
            raise ValueError(f"effect_threshold must be finite, got {self.effect_threshold!r}")


def effect_beyond(prereg: Preregistration, effect: float) -> bool:
    """Whether ``effect`` lies beyond the pre-registered threshold in its direction."""
    if not math.isfinite(effect):
        return False
    t = prereg.effect_threshold
    if prereg.effect_direction == "greater":
        return effect >= t
    if prereg.effect_direction == "less":
        return effect <= t
    return abs(effect) >= t


def ci_within_null_side(prereg: Preregistration, ci: tuple[float, float]) -> bool:
    """Equivalence: the whole CI lies on the null side of the threshold (strictly)."""
    lo, hi = ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    t = prereg.effect_threshold
    if prereg.effect_direction == "greater":
        return hi < t
    if prereg.effect_direction == "less":
        return lo > t
    return max(abs(lo), abs(hi)) < t


def decide(prereg: Preregistration, statistic: float, p: float, effect: float,
           ci: tuple[float, float], power: float | None = None) -> str:
    """The verdict for one claim (semantics in the module docstring).

    ``statistic`` is accepted so that every claim calls ``decide`` with its full set of numbers;
    only its finiteness matters here (a NaN statistic means the test could not run).
    """
    if not (math.isfinite(statistic) and math.isfinite(p)):
        return INCONCLUSIVE
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p!r}")
    if power is not None and not 0.0 <= power <= 1.0:
        raise ValueError(f"power must lie in [0, 1], got {power!r}")
    significant = p < prereg.alpha
    if prereg.kind == "presence":
        return REPLICATED if significant and effect_beyond(prereg, effect) else NOT_REPLICATED
    if significant and effect_beyond(prereg, effect):
        return NOT_REPLICATED
    if ci_within_null_side(prereg, ci):
        return REPLICATED
    if not significant and power is not None and power >= prereg.min_power:
        return REPLICATED
    return INCONCLUSIVE


def _check_verdict(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {value!r}")


def _frozen_dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


@attrs.frozen(eq=False)
class ClaimResult:
    """The numbers behind one claim's verdict; written to JSON by :mod:`modes.report.records`.

    ``details`` holds secondary numbers (JSON-able scalars/lists), ``components`` names the
    components used (backbone, dataset, density model, ...), ``figures`` the PNG paths,
    ``figure_specs`` the JSON-able figure data (:class:`modes.report.specs.FigureSpec` dicts) from
    which ``modes report`` redraws the figures, and ``note`` the measured reason when a claim is
    not expected to hold at smoke scale.
    """

    prereg: Preregistration
    statistic: float
    p_value: float
    effect_size: float
    ci_low: float
    ci_high: float
    n: int
    verdict: str = attrs.field(validator=_check_verdict)
    power: float | None = None
    scale: str = "smoke"
    components: dict[str, str] = attrs.field(factory=dict, converter=_frozen_dict)
    details: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    runtime_s: float = 0.0
    figures: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    figure_specs: tuple[dict[str, Any], ...] = attrs.field(default=(), converter=tuple)
    note: str = ""

    @property
    def claim_id(self) -> str:
        return self.prereg.claim_id


def evaluate(prereg: Preregistration, *, statistic: float, p_value: float, effect_size: float,
             ci: tuple[float, float], n: int, power: float | None = None,
             **fields: Any) -> ClaimResult:
    """A :class:`ClaimResult` whose verdict is :func:`decide` on the given numbers."""
    verdict = decide(prereg, statistic, p_value, effect_size, ci, power)
    return ClaimResult(prereg=prereg, statistic=statistic, p_value=p_value,
                       effect_size=effect_size, ci_low=ci[0], ci_high=ci[1], n=n,
                       verdict=verdict, power=power, **fields)


def expected_fail(result: ClaimResult, reason: str) -> ClaimResult:
    """Mark a claim not expected to hold at smoke scale; the measured ``reason`` is kept.

    The numbers stay as measured; the original verdict and note are kept in ``details``
    (``measured_verdict``, ``measured_note``).
    """
    if not reason:
        raise ValueError("expected_fail needs the measured reason, got an empty string")
    details = {**result.details, "measured_verdict": result.verdict}
    if result.note:
        details["measured_note"] = result.note
    return attrs.evolve(result, verdict=EXPECTED_FAIL, note=reason, details=details)
