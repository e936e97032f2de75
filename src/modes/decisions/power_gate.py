"""Power decides (issue 10, item 4): a claim's verdict stands only if its test could see the
pre-registered effect at this run's sizes.

Before a verdict is read, the power of the claim's own test (the decision function without this
gate) against the claim's fixed, pre-registered effect is simulated at the run's sizes (classes,
layers), seeded and cached per design. The gate reads the exact (Clopper-Pearson) 95% lower
bound of that power, not the point estimate: with ``reps`` simulations a point estimate of 0.8
is as often below 0.8 as above. Under ``min_power`` (0.8; 1 - alpha for an absence claim, whose
gate is the equivalence half of its test: :data:`modes.decisions.no_modes.ABSENCE_POWER`) the
verdict is ``inconclusive (underpowered: power p at n)`` and the numbers are recorded in
``details["power"]``.

* A presence claim's gate is a precondition: an underpowered test's "not replicated" says nothing,
  and its "replicated" reads an effect estimate inflated by selection on significance (the
  winner's curse), so neither is reported as a finding.
* An absence claim's gate takes only a replication away: absence is accepted only by a test that
  would have seen the effect, while modes that an underpowered test does see still refute it.
"""

from __future__ import annotations

import attrs
import numpy as np

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


GATE_REPS = 200
"""Simulations per design for the gates of C4-C9 (each decision costs 1-15 ms, so a design
costs at most a few seconds once; cached per design): with no miss the exact 95% lower bound is
0.982, and a true power of 0.9 passes the 0.8 gate with probability about 0.97."""

_GRID = 2.0 ** 0.125


def round_up(value: float) -> float:
    """``value`` rounded up to the grid 2^(k/8) (at most 9% above it; positive values only).

    A gate reads nuisance scales from its input (a bin's noise sd, the class-level spread of a
    distance): rounding them *up* keeps the simulated design at least as noisy as the input
    (power is not overstated) and makes nearby inputs share one cached design, so that the
    controls' thousands of planted draws cost a handful of simulations, not one each."""
    if not value > 0 or not np.isfinite(value):
        raise ValueError(f"a nuisance scale must be positive and finite, got {value!r}")
    return float(_GRID ** np.ceil(np.log(value) / np.log(_GRID) - 1e-9))


def design_key(values: np.ndarray, decimals: int = 6) -> tuple[float, ...]:
    """A hashable, rounded copy of per-bin or per-class design numbers (the cache key)."""
    return tuple(float(v) for v in np.round(np.asarray(values, dtype=float), decimals))
