"""A claim that is a conjunction of tested conditions, decided by intersection-union.

C5, C7, C8 and C9 each assert several things at once (a jump *and* a falling slope before it; a
drop in radius *and* in smoothed F-score *and* more abstention; ...). The claim holds only if
every part holds, so its null is the union of the parts' nulls and the intersection-union test
rejects it at level alpha when every part is rejected at alpha: its p-value is the largest of
the parts' p-values (Berger 1982), with no multiplicity correction and no part read off the sign
of a point estimate. That p-value is the claim's ``p_value`` (so Holm across claims sees the
whole claim), every part's test is in ``details["conditions"]``, and the note names the parts
that did not reach alpha.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs


@attrs.frozen
class Condition:
    """One tested part of a claim: its name, test statistic, one-sided p-value and a short
    account of the numbers (estimate, CI) for the note."""

    name: str
    statistic: float
    p_value: float
    account: str

    def summary(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "p_value": self.p_value, "account": self.account}


def intersection_union(conditions: Sequence[Condition], alpha: float) -> tuple[float, str]:
    """The intersection-union p-value (max over parts; NaN when a part could not be tested)
    and a note naming the parts with ``p >= alpha``."""
    if not conditions:
        raise ValueError("a conjunction needs at least one condition")
    ps = [c.p_value for c in conditions]
    p = math.nan if any(not math.isfinite(v) for v in ps) else max(ps)
    failed = [f"{c.name} not shown (p={c.p_value:.3g}; {c.account})" for c in conditions
              if not (math.isfinite(c.p_value) and c.p_value < alpha)]
    return p, "; ".join(failed)


def condition_details(conditions: Sequence[Condition]) -> dict[str, dict[str, Any]]:
    return {c.name: c.summary() for c in conditions}
