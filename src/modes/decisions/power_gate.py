"""Power decides (issue 10, item 4): a claim's verdict stands only if its test could see the
pre-registered effect at this run's sizes.

Before a verdict is read, the power of the claim's own test (the decision function without this
gate) against the claim's fixed, pre-registered effect is simulated at the run's sizes (classes,
layers), seeded and cached per design. The gate reads the exact (Clopper-Pearson) 95% lower
bound of that power, not the point estimate: with ``reps`` simulations a point estimate of 0.8
is as often below 0.8 as above. Under ``min_power`` (0.8) the verdict is ``inconclusive
(underpowered: power p at n)`` and the numbers are recorded in ``details["power"]``.

* A presence claim's gate is a precondition: an underpowered test's "not replicated" says nothing,
  and its "replicated" reads an effect estimate inflated by selection on significance (the
  winner's curse), so neither is reported as a finding.
* An absence claim's gate takes only a replication away: absence is accepted only by a test that
  would have seen the effect, while modes that an underpowered test does see still refute it.
"""

from __future__ import annotations

import attrs

from modes.stats.claim import INCONCLUSIVE, ClaimResult, require
from modes.stats.power import PowerEstimate


def power_gate(result: ClaimResult, estimate: PowerEstimate, design: str) -> ClaimResult:
    """``result`` with its power recorded and the gate of the module docstring; ``design`` says
    at which sizes and against which effect the power was simulated (for the note)."""
    prereg = result.prereg
    numbers = {"power": estimate.power, "ci_low": estimate.ci_low, "ci_high": estimate.ci_high,
               "detections": estimate.detections, "reps": estimate.reps, "design": design,
               "min_power": prereg.min_power}
    powered = estimate.ci_low >= prereg.min_power
    why = (f"underpowered: power {estimate.power:.2f} (95% lower bound {estimate.ci_low:.2f} < "
           f"{prereg.min_power:g}; {estimate.detections}/{estimate.reps} simulations) at {design}")
    result = attrs.evolve(result, power=estimate.power,
                          details={**result.details, "power": numbers})
    gated = require(result, powered, why, INCONCLUSIVE, precondition=prereg.kind == "presence")
    if powered or gated.decision.reason == why:
        return gated
    # an absence test that is not significant is inconclusive by its own rule when
    # underpowered, before the condition is read: the note says why
    return attrs.evolve(gated, note="; ".join(x for x in (gated.note, why) if x))
