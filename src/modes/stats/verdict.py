"""The verdict of a claim and what may change it, as values.

A claim's verdict is one of three :class:`Verdict` members. It is never stored or set by hand: it
is computed by :func:`modes.stats.claim.decide` from the claim's numbers, its side
:class:`Condition` s and its place in the run's family of claims (:class:`FamilyWise`), so that
the claim test, the JSON record, the report and pytest's outcome all read the same decision.
"""

from __future__ import annotations

import enum
import math
from typing import Literal

import attrs


class Verdict(enum.StrEnum):
    """What a re-derived finding came to; the values are the strings of the JSON records."""

    REPLICATED = "replicated"
    NOT_REPLICATED = "not replicated"
    INCONCLUSIVE = "inconclusive"


def parse_verdict(value: str) -> Verdict:
    """``value`` as a verdict; anything else is an error naming the known ones."""
    try:
        return Verdict(value)
    except ValueError:
        raise ValueError(f"unknown verdict {value!r}; known {[v.value for v in Verdict]}"
                         ) from None


def _downgrade(instance: Condition, attribute: attrs.Attribute[Verdict], value: Verdict) -> None:
    if value is Verdict.REPLICATED:
        raise ValueError("a failed condition must give 'not replicated' or 'inconclusive'")


@attrs.frozen
class Condition:
    """A pre-registered condition of a claim, evaluated on the data.

    A side condition: when the claim's own test replicates but the condition does not ``hold``,
    the verdict is ``otherwise`` and ``reason`` (with its numbers) says why. A ``precondition``
    (what the claim takes as given, such as "there are two modes" for a claim about the modes)
    that does not hold sets ``otherwise`` whatever the test says. A condition can only take a
    replication away, never grant one.
    """

    holds: bool = attrs.field(converter=bool)
    reason: str
    otherwise: Verdict = attrs.field(default=Verdict.NOT_REPLICATED, converter=parse_verdict,
                                     validator=_downgrade)
    precondition: bool = False


def _positive_alpha(instance: FamilyWise, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{attribute.name} must lie in (0, 1), got {value!r}")


@attrs.frozen
class FamilyWise:
    """A claim's place in its run's family: its Holm-adjusted p-value over the ``size`` finite
    primary p-values of the run (NaN when its own is NaN) and the family-wise ``alpha``."""

    adjusted_p: float = attrs.field(converter=float)
    alpha: float = attrs.field(converter=float, validator=_positive_alpha)
    size: int

    @property
    def rejects(self) -> bool:
        return math.isfinite(self.adjusted_p) and self.adjusted_p < self.alpha


@attrs.frozen
class Decision:
    """A verdict and what set it: the claim's own ``test``, a failed side ``condition`` or the
    ``family``-wise correction; ``reason`` says why when it is not the test."""

    verdict: Verdict
    by: Literal["test", "condition", "family"] = "test"
    reason: str = ""
