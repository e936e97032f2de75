"""The absence decision "no two modes of class fitting at any of these layers" (C2, C3)."""

from __future__ import annotations

import attrs

from modes.decisions.two_modes import LayerValues
from modes.evidence import absence_numbers
from modes.stats.claim import ClaimResult, Preregistration, evaluate
from modes.stats.power import TwoModeEffect

C2 = Preregistration(
    claim_id="C2",
    hypothesis="In ResNet stages 1 and 2 the class-mean log-densities do not form two modes",
    paper_ref="Fig. A.7",
    test="Hartigan's dip test per shallow stage (Bonferroni over stages); absence accepted by an "
         "equivalence bound on the spread ratio or by power >= 0.8 against C1's observed effect",
    effect_name="max spread ratio over shallow stages",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="absence",
)

C3 = Preregistration(
    claim_id="C3",
    hypothesis="In no layer of the plain 8-layer CNN do the class-mean log-densities form two "
               "modes",
    paper_ref="Fig. A.8",
    test="Hartigan's dip test per layer (Bonferroni over layers); absence accepted by an "
         "equivalence bound on the spread ratio or by power >= 0.8 against C1's observed effect",
    effect_name="max spread ratio over layers",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="absence",
)


@attrs.frozen(eq=False)
class AbsenceInput:
    """The layers that must show no modes, and the two-mode effect the test must be able to see."""

    values: LayerValues
    reference: TwoModeEffect
    seed: int = 0


def decide_no_modes(inp: AbsenceInput, prereg: Preregistration = C2) -> ClaimResult:
    """Absence of two modes at every layer (:func:`modes.evidence.absence_numbers`)."""
    numbers = absence_numbers(list(inp.values.log_density), inp.values.labels, inp.reference,
                              prereg.alpha, seed=inp.seed)
    numbers["details"]["layers"] = list(inp.values.layers)
    return evaluate(prereg, **numbers)
