"""Every size control measures its test: a null never passes through an underpowered gate.

A gated presence decision is ``inconclusive`` wherever its power gate fails, so a null run on it
at such a design has a false-positive rate of 0 whatever the test does (C1's null at 20 classes
did). Nulls of presence claims therefore run the ungated core (no power gate in the result);
nulls of absence claims, whose gate is the equivalence half of the test, run where it passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from modes.decisions.controls import CONTROLS, ClaimControl, ids

NULLS = [c for c in CONTROLS if c.kind == "null"]


def _gates(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Every power-gate record in a result's details, nested ones (C10's initial blocks) too."""
    found = [details["power"]] if isinstance(details.get("power"), dict) else []
    for backbone in details.get("backbones", {}).values():
        if backbone.get("initial_power"):
            found.append(backbone["initial_power"])
    return found


@pytest.mark.parametrize("control", NULLS, ids=[ids(c) for c in NULLS])
def test_a_null_runs_the_test_not_an_underpowered_gate(control: ClaimControl) -> None:
    result = control.decide(control.draw(np.random.default_rng(0)))
    if control.prereg.kind == "presence":
        assert "power" not in result.details, (
            f"{control.claim}'s null runs the gated decision; it must run the ungated core")
    for gate in _gates(result.details):
        assert gate["ci_low"] >= gate["min_power"], (
            f"{control.claim}'s null runs where an absence gate fails ({gate['design']}): "
            f"its false-positive rate would be 0 untested")
