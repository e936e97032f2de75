"""The absence decision "no two modes of class fitting at any of these layers" (C2, C3, and
C10's initial blocks).

Decided on the statistic its power is computed for: Hartigan's dip test on the class-mean
log-densities at every layer, Bonferroni over the layers (any layer with two modes refutes the
claim, so the least favourable alternative is modes at one layer: each layer is tested at
alpha / L). The three outcomes:

* ``not replicated``: some layer's dip rejects unimodality (Bonferroni p < alpha) and the
  two-Gaussian fit there has Ashman's D >= 2 (two cleanly separated modes, C1's threshold);
* ``replicated``: no layer's dip rejects, i.e. every layer is accepted at alpha / L, **and** the
  exact 95% lower bound of the power of this very test against :data:`REFERENCE` at this number
  of classes and layers is at least :data:`ABSENCE_POWER` = 1 - alpha
  (:func:`modes.decisions.power_gate.power_gate`), so each layer's acceptance is an equivalence
  statement at level alpha: an effect as large as the reference at any one layer would have
  been missed with probability <= alpha;
* ``inconclusive`` otherwise: an underpowered acceptance, or a dip that rejects unimodality
  while the fitted modes are not cleanly separated (neither unimodal nor two distinct modes).

No spread-ratio CI decides anything (a ratio says nothing about whether class means form
modes, and is undefined where the largest gap isolates one class), and the reference effect is
fixed here, not read from another claim's output (C1's largest gap is biased upward and
meaningless when C1 fails): it is C1's pre-registered effect.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs
import numpy as np

from modes.decisions.power_gate import power_gate
from modes.decisions.two_modes import EFFECT, LayerValues, ashman_d
from modes.evidence import inconclusive, per_class
from modes.stats.claim import ClaimResult, Preregistration, evaluate
from modes.stats.modality import DipResult, class_means, dip_test, mixture_bic
from modes.stats.power import PowerEstimate, TwoModeEffect, simulate_power

REFERENCE = EFFECT
"""The pre-registered two-mode effect an absence claim must be able to see: C1's own effect
(:data:`modes.decisions.two_modes.EFFECT`, 25% of the classes in a high-density group whose class
means lie 8 within-group sds above the others'), so that "no modes here" is decided against the
very structure C1 is powered to find in the deep stages. It is a fixed number, not C1's observed
gap. Why 8 sd: "two distinct modes ... around vastly different density values" is C1's
statement, and C1 calls modes distinct at Ashman's D >= 2 (Ashman, Bird & Zepeda 1994); this
effect has a population D of 8, four times that bound. Why 25%, not the 30% used before: a
minority high group as in the planted two-mode fixtures, and the dip test is weaker against the
smaller minority; at 30% an absence accepted at 100 classes still missed a 25%-minority structure
in 15% of runs (the former known defect of the C2 controls).

Power of the dip at alpha 0.005 (two layers) against it (2000 simulations): 0.876 (lower bound
0.860) at 100 classes, 0.9995 (0.997) at 150, 1.0 (0.998) at 200; so under :data:`ABSENCE_POWER`
a 100-class run (CIFAR-100, Mini-ImageNet) cannot accept absence with this test: inconclusive."""

ABSENCE_POWER = 1 - 0.01
"""The power an absence claim needs against :data:`REFERENCE` (exact 95% lower bound): 1 - alpha.
Accepting absence is the claim's positive finding, and its error is accepting it when the
reference effect is there, at rate 1 - power; an equivalence test at level alpha bounds that rate
by alpha, so the gate asks for power 1 - alpha (a gate at 0.8 bounded it by 0.2, not alpha)."""

POWER_REPS = 2000
"""Simulations per design (a dip test costs ~0.1 ms, so 2000 reps at two layers take ~0.4 s):
enough for the exact lower bound to be within ~0.02 of a power of 0.9."""

ASHMAN_D = 2.0

_TEST = ("Hartigan's dip test on class-mean log-densities at each {unit} (Bonferroni over "
         "{unit}s); refuted where it rejects with Ashman's D >= 2 of the two-Gaussian fit; "
         "accepted only when no {unit} rejects and the exact 95% lower bound of the test's power "
         "against the pre-registered effect (25% of classes 8 sd higher, C1's) is >= 0.99")

C2 = Preregistration(
    claim_id="C2",
    hypothesis="In ResNet stages 1 and 2 the class-mean log-densities do not form two modes",
    paper_ref="Fig. A.7",
    test=_TEST.format(unit="shallow stage"),
    effect_name="Ashman's D of the two-Gaussian fit at the most bimodal stage (where its dip "
                "rejects)",
    effect_threshold=ASHMAN_D,
    effect_direction="greater",
    kind="absence",
    min_power=ABSENCE_POWER,
)

C3 = Preregistration(
    claim_id="C3",
    hypothesis="In no layer of the plain 8-layer CNN do the class-mean log-densities form two "
               "modes",
    paper_ref="Fig. A.8",
    test=_TEST.format(unit="layer"),
    effect_name="Ashman's D of the two-Gaussian fit at the most bimodal layer (where its dip "
                "rejects)",
    effect_threshold=ASHMAN_D,
    effect_direction="greater",
    kind="absence",
    min_power=ABSENCE_POWER,
)


@attrs.frozen(eq=False)
class AbsenceInput:
    """The layers that must show no modes; ``seed`` seeds the power simulation."""

    values: LayerValues
    seed: int = 0


def bonferroni_dip(means: Sequence[np.ndarray]) -> tuple[list[DipResult], float]:
    """The dip test at each layer's class means and the Bonferroni p (min p times layers)."""
    dips = [dip_test(m) for m in means]
    return dips, min(1.0, len(dips) * min(d.p_value for d in dips))


@functools.lru_cache(maxsize=64)
def absence_power(n_classes: int, n_layers: int, alpha: float,
                  reference: TwoModeEffect = REFERENCE, reps: int = POWER_REPS,
                  seed: int = 0) -> PowerEstimate:
    """Power of :func:`bonferroni_dip` at ``alpha`` when one of ``n_layers`` layers has the
    ``reference`` effect and the others one Gaussian mode (the least favourable alternative:
    modes at a single layer), with ``n_classes`` classes; cached per design."""
    def generate(rng: np.random.Generator) -> np.ndarray:
        rows = [reference.sample(rng, n_classes)]
        rows += [rng.standard_normal(n_classes) for _ in range(n_layers - 1)]
        return np.stack(rows)

    return simulate_power(lambda means: bonferroni_dip(list(means))[1] < alpha, generate,
                          reps, seed)


def decide_no_modes(inp: AbsenceInput, prereg: Preregistration = C2) -> ClaimResult:
    """Absence of two modes at every layer, power-gated (module docstring)."""
    values = inp.values
    groups = [per_class(v, values.labels) for v in values.log_density]
    n_classes, n_layers = len(groups[0]), len(groups)
    if n_classes < 4:
        return inconclusive(prereg, n_classes, f"{n_classes} classes; the dip test needs 4")
    means = [class_means(g) for g in groups]
    dips, p = bonferroni_dip(means)
    lowest = int(np.argmin([d.p_value for d in dips]))
    # Ashman's D decides only where the dip rejects (it costs a mixture fit)
    d = ashman_d(mixture_bic(means[lowest])) if p < prereg.alpha else float("nan")
    note = ""
    if p < prereg.alpha and not d >= ASHMAN_D:
        note = (f"the dip rejects unimodality at {values.layers[lowest]} (Bonferroni p {p:.3g}) "
                f"but the two-Gaussian fit has Ashman's D {d:.2f} < {ASHMAN_D:g}: not "
                f"unimodal, not two distinct modes either")
    estimate = absence_power(n_classes, n_layers, prereg.alpha, REFERENCE, POWER_REPS,
                             inp.seed)
    nan = float("nan")
    result = evaluate(
        prereg, statistic=dips[lowest].statistic, p_value=p, effect_size=d, ci=(nan, nan),
        n=n_classes, note=note,
        details={"layers": list(values.layers), "dip_p": [x.p_value for x in dips],
                 "dip_statistic": [x.statistic for x in dips],
                 "most_bimodal_layer": values.layers[lowest],
                 "reference_frac_high": REFERENCE.frac_high,
                 "reference_separation": REFERENCE.separation})
    return power_gate(result, estimate,
                      f"{n_classes} classes, {n_layers} layers, alpha {prereg.alpha:g} / "
                      f"{n_layers} per layer, against {REFERENCE.frac_high:.0%} of classes "
                      f"{REFERENCE.separation:g} sd higher at one layer")
