"""Pre-registration, results and the one function that decides a claim's verdict.

A claim states, in code and before it sees data, its hypothesis, test, alpha and the effect size
it cares about (:class:`Preregistration`). After the test it records the numbers
(:class:`ClaimResult`); its verdict (:class:`~modes.stats.verdict.Verdict`) is a property of the
record, computed by :func:`decide` and nowhere else:

* *presence* claims ("there are two modes") are ``replicated`` only when ``p < alpha`` **and** the
  effect lies beyond the pre-registered threshold in the pre-registered direction; otherwise
  ``not replicated``.
* *absence* claims ("there are no modes") are ``not replicated`` when the test is significant and
  the effect lies beyond the threshold; ``replicated`` when the effect's confidence interval lies
  entirely on the null side of the threshold (an equivalence bound) or when the test is not
  significant and its power against the reference effect is at least ``min_power``; and
  ``inconclusive`` otherwise (a non-significant test that could not have detected the effect).
* a failed precondition (what the claim takes as given) sets the verdict whatever the test says;
* a replication stands only if every pre-registered side condition holds (the first that fails
  sets the verdict, :class:`~modes.stats.verdict.Condition`) and, once the claim is placed in its
  run's family, a presence claim's Holm-adjusted p-value is below the family-wise alpha. Absence
  claims keep their uncorrected test, the stricter one for them (correction only makes "not
  significant" easier).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

import attrs

from modes.stats.verdict import Condition, Decision, FamilyWise, Verdict, parse_verdict

Kind = Literal["presence", "absence"]
Direction = Literal["greater", "less", "abs"]

# The members under the names the claim modules import.
REPLICATED: Final = Verdict.REPLICATED
NOT_REPLICATED: Final = Verdict.NOT_REPLICATED
INCONCLUSIVE: Final = Verdict.INCONCLUSIVE

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


def _test_verdict(prereg: Preregistration, statistic: float, p: float, effect: float,
                  ci: tuple[float, float], power: float | None) -> Verdict:
    """The verdict of the claim's own test (first two points of the module docstring)."""
    if not (math.isfinite(statistic) and math.isfinite(p)):
        return Verdict.INCONCLUSIVE
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p!r}")
    if power is not None and not 0.0 <= power <= 1.0:
        raise ValueError(f"power must lie in [0, 1], got {power!r}")
    significant = p < prereg.alpha
    if prereg.kind == "presence":
        return (Verdict.REPLICATED if significant and effect_beyond(prereg, effect)
                else Verdict.NOT_REPLICATED)
    if significant and effect_beyond(prereg, effect):
        return Verdict.NOT_REPLICATED
    if ci_within_null_side(prereg, ci):
        return Verdict.REPLICATED
    if not significant and power is not None and power >= prereg.min_power:
        return Verdict.REPLICATED
    return Verdict.INCONCLUSIVE


def decide(prereg: Preregistration, statistic: float, p: float, effect: float,
           ci: tuple[float, float], power: float | None = None,
           conditions: Iterable[Condition] = (), family: FamilyWise | None = None) -> Decision:
    """The verdict of one claim and what set it (semantics in the module docstring).

    ``statistic`` is accepted so that every claim is decided on its full set of numbers; only its
    finiteness matters here (a NaN statistic means the test could not run).
    """
    verdict = _test_verdict(prereg, statistic, p, effect, ci, power)
    conditions = tuple(conditions)
    for condition in conditions:
        if condition.precondition and not condition.holds:
            return Decision(condition.otherwise, "condition", condition.reason)
    if verdict is not Verdict.REPLICATED:
        return Decision(verdict)
    for condition in conditions:
        if not condition.holds:
            return Decision(condition.otherwise, "condition", condition.reason)
    if family is not None and prereg.kind == "presence" and not family.rejects:
        return Decision(Verdict.NOT_REPLICATED, "family",
                        f"replicated at its own alpha {prereg.alpha:g}, but the Holm-adjusted p "
                        f"{family.adjusted_p:.3g} over {family.size} claims is not below the "
                        f"family-wise alpha {family.alpha:g}")
    return Decision(verdict)


def _frozen_dict(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _specs(value: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(value)


@attrs.frozen(eq=False)
class ClaimResult:
    """The numbers behind one claim's verdict; written to JSON by :mod:`modes.report.records`.

    The verdict is not a field: :attr:`decision` computes it with :func:`decide` from the numbers,
    the side ``conditions`` and, once the run's claims are corrected together
    (:func:`modes.stats.multiple.family_wise`), the ``family``. ``run_id`` names the pytest
    session that measured the claim (only claims of one run form a family), ``expected`` the
    verdict that run expects (:mod:`modes.expected`; ``replicated`` unless recorded otherwise).
    ``scale`` names the scale profile and ``overrides`` the knobs the run changed in it
    (``density.sweeps=100``, :func:`modes.scale.load_profile`).
    ``details`` holds secondary numbers (JSON-able scalars/lists), ``components`` names the
    components used (backbone, dataset, density model, ...), ``figures`` the PNG paths,
    ``figure_specs`` the JSON-able figure data (:class:`modes.report.specs.FigureSpec` dicts) from
    which ``modes report`` redraws the figures, and ``note`` what the claim wants a reader to know
    (why it could not run, for one).
    """

    prereg: Preregistration
    statistic: float
    p_value: float
    effect_size: float
    ci_low: float
    ci_high: float
    n: int
    power: float | None = None
    conditions: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    family: FamilyWise | None = None
    run_id: str = ""
    expected: Verdict = attrs.field(default=Verdict.REPLICATED, converter=parse_verdict)
    scale: str = "smoke"
    overrides: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    components: dict[str, str] = attrs.field(factory=dict, converter=_frozen_dict)
    details: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    runtime_s: float = 0.0
    figures: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    figure_specs: tuple[dict[str, Any], ...] = attrs.field(default=(), converter=_specs)
    note: str = ""

    def __attrs_post_init__(self) -> None:
        self.decision  # noqa: B018 -- numbers that cannot be decided are an error here

    @property
    def scale_label(self) -> str:
        """The scale profile with the run's overrides: ``smoke [density.sweeps=100]``."""
        return scale_label(self.scale, self.overrides)

    @property
    def claim_id(self) -> str:
        return self.prereg.claim_id

    @property
    def decision(self) -> Decision:
        return decide(self.prereg, self.statistic, self.p_value, self.effect_size,
                      (self.ci_low, self.ci_high), self.power, self.conditions, self.family)

    @property
    def verdict(self) -> Verdict:
        return self.decision.verdict

    @property
    def family_verdicts(self) -> frozenset[Verdict]:
        """The verdicts this claim can have once placed in its run's family: its verdict now, or
        the one it gets when Holm's correction does not reject (the family cannot do more)."""
        unrejected = attrs.evolve(self, family=FamilyWise(adjusted_p=1.0, alpha=0.5, size=1))
        return frozenset({self.verdict, unrejected.verdict})

    @property
    def as_expected(self) -> bool:
        """Whether the verdict is the one its run expects (then pytest's outcome is a pass)."""
        return self.verdict is self.expected

    @property
    def explanation(self) -> str:
        """The note and, when a condition or the family set the verdict, its reason."""
        return "; ".join(x for x in (self.note, self.decision.reason) if x)


def scale_label(scale: str, overrides: Iterable[str] = ()) -> str:
    """``"smoke"``, or ``"smoke [density.sweeps=100, robustness.bins=4]"`` with overrides."""
    given = ", ".join(overrides)
    return f"{scale} [{given}]" if given else scale


def evaluate(prereg: Preregistration, *, statistic: float, p_value: float, effect_size: float,
             ci: tuple[float, float], n: int, power: float | None = None,
             **fields: Any) -> ClaimResult:
    """A :class:`ClaimResult` of the given numbers (its verdict is :func:`decide` on them)."""
    return ClaimResult(prereg=prereg, statistic=statistic, p_value=p_value,
                       effect_size=effect_size, ci_low=ci[0], ci_high=ci[1], n=n, power=power,
                       **fields)


def require(result: ClaimResult, condition: bool, reason: str,
            otherwise: Verdict = Verdict.NOT_REPLICATED, *, precondition: bool = False
            ) -> ClaimResult:
    """``result`` with one more pre-registered condition: unless ``condition`` holds, a
    replicated result (any result, for a ``precondition``) becomes ``otherwise``; ``reason``
    (with its numbers) says why."""
    return attrs.evolve(result, conditions=(
        *result.conditions, Condition(condition, reason, otherwise, precondition)))
