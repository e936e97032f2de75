"""Controls: each claim's own decision function on planted inputs shaped like the real ones.

A :class:`ClaimControl` is one claim's decision (``decide_two_modes``, ``decide_no_modes``, ...)
and one family of planted inputs (:mod:`modes.decisions.planted`) with a known answer, at the
claim's own alpha (its :class:`~modes.stats.claim.Preregistration`). A trial draws one input and
counts a *hit* when the decision says ``replicated``. Three kinds:

* ``null``: the claim is false in the planted input (for an absence claim: the modes it denies
  are there), so a hit is a false positive. Passes when the rate is at most
  ``alpha + 2`` Monte Carlo standard errors at alpha, ``sqrt(alpha (1 - alpha) / reps)``
  (issue 10's criterion; at 2000 repetitions and alpha 0.01 the bound is 0.0145, so 2 alpha is
  told from alpha).
* ``planted``: the claim holds with the pre-registered (paper-sized) effect; passes when the
  power is at least :data:`MIN_POWER`.
* ``power``: informational (``passed`` None): the power at a size where the decision is known to
  be weak (smoke-scale numbers of classes), for the report.

Which decision a control runs:

* A ``null`` of a presence claim runs the claim's **ungated core** (``decide_two_modes_core``,
  ``decide_complexity_core``, ...: the pre-registered test without its power gate). The gated
  decision is ``inconclusive`` wherever the gate fails, so at an underpowered design (C1 at 20
  classes: power 0) its false-positive rate is 0 whatever the test does; the core's rate is the
  test's size.
* A ``null`` of an absence claim (C2, and C10's initial blocks) runs the gated decision at a
  design where the gate passes: there the gate is the equivalence half of the test (absence is
  accepted only by a test that would have seen the effect), so the core alone is not a test of
  absence, and where the gate fails the null would pass untested.
* ``planted`` and ``power`` controls run the gated decision the claim reports.

Repetitions follow a sequential rule (:func:`sequential_rate`), looked at every
:data:`NULL_LOOK` (nulls) or :data:`PLANTED_LOOK` (planted) trials so that a clear decision stops
early:

* nulls: Wald's sequential probability ratio test of ``rate = alpha`` against
  ``rate = 2 alpha`` with both error probabilities :data:`SPRT_ERROR`; it stops when the log
  likelihood ratio leaves ``[log(b / (1 - a)), log((1 - b) / a)]`` (looking only every
  :data:`NULL_LOOK` trials makes it slightly more conservative than Wald's bounds), or at the
  cap; the pass criterion is then the one above, at the reps actually run. With no false
  positive the test stops at 300 trials (bound 0.0215, MC SE at alpha 0.0057); at a true rate of
  alpha it needs about 950 on average, at 2 alpha about 750 (cap 2000, bound 0.0145).

Controls marked ``smoke=False`` cost seconds a trial (C10 at 100 classes: its power is
simulated anew from each input's own reference effect) and run only in the full benchmark
(``benchmarks/run_controls.py``).
* planted: stops when the exact (Clopper-Pearson) 99% interval of the power lies wholly above or
  below :data:`MIN_POWER`, or at the cap, where the point estimate is compared.

Each result carries its repetitions, hits, exact 95% CI, Monte Carlo SE, bound, why it stopped,
its runtime and the run id of the session that ran it (the report shows only the current run's).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import numpy as np

from modes.decisions import (
    class_fitting,
    complexity,
    fscore_tracking,
    generative,
    memorization_jump,
    no_modes,
    planted,
    robustness_drop,
    transformers,
    two_modes,
)
from modes.stats.claim import ClaimResult, Preregistration
from modes.stats.power import clopper_pearson
from modes.stats.verdict import Verdict

ControlKind = Literal["null", "planted", "power"]
MIN_POWER = 0.8
NULL_LOOK = 100
PLANTED_LOOK = 50
SPRT_ERROR = 0.05
PLANTED_CONFIDENCE = 0.99
NULL_CAP = 2000
PLANTED_CAP = 1000
POWER_REPS = 200


@attrs.frozen
class ClaimControl:
    """One claim's decision on one family of planted inputs; ``known_defect`` names a defect being
    fixed elsewhere that makes this control fail (its test is then an expected failure)."""

    claim: str
    kind: ControlKind
    label: str
    prereg: Preregistration = attrs.field(repr=False)
    decide: Callable[[Any], ClaimResult] = attrs.field(eq=False, repr=False)
    draw: Callable[[np.random.Generator], Any] = attrs.field(eq=False, repr=False)
    cap: int = 0
    known_defect: str = ""
    smoke: bool = True

    @property
    def alpha(self) -> float:
        return self.prereg.alpha

    @property
    def max_reps(self) -> int:
        if self.cap:
            return self.cap
        return {"null": NULL_CAP, "planted": PLANTED_CAP, "power": POWER_REPS}[self.kind]

    @property
    def look(self) -> int:
        return NULL_LOOK if self.kind == "null" else PLANTED_LOOK

    def trial(self, rng: np.random.Generator) -> bool:
        """One planted input through the claim's decision: True when it says replicated."""
        return self.decide(self.draw(rng)).verdict is Verdict.REPLICATED


@attrs.frozen
class ControlResult:
    """``hits`` replicated verdicts in ``reps`` trials, judged by the control's kind."""

    claim: str
    kind: str
    label: str
    alpha: float
    reps: int
    hits: int
    rate: float
    ci_low: float
    ci_high: float
    mc_se: float
    bound: float
    passed: bool | None
    stopped: str
    runtime_s: float = 0.0
    run_id: str = ""
    known_defect: str = ""

    def criterion(self) -> str:
        if self.kind == "null":
            return f"rate <= {self.bound:.4f} (alpha {self.alpha:g} + 2 MC SE)"
        if self.kind == "planted":
            return f"power >= {self.bound:g}"
        return "none (informational)"

    def message(self) -> str:
        return (f"{self.claim} {self.kind} [{self.label}]: rate {self.rate:.4f} "
                f"({self.hits}/{self.reps}, 95% CI [{self.ci_low:.4f}, {self.ci_high:.4f}], "
                f"MC SE {self.mc_se:.4f}, {self.stopped}, {self.runtime_s:.1f} s); needs "
                f"{self.criterion()}" + (f"; known defect: {self.known_defect}"
                                         if self.known_defect else ""))


def size_bound(alpha: float, reps: int) -> float:
    """The largest false-positive rate that passes: alpha + 2 Monte Carlo SEs at alpha."""
    return alpha + 2.0 * math.sqrt(alpha * (1.0 - alpha) / reps)


def sprt_llr(hits: int, reps: int, alpha: float) -> float:
    """Log likelihood ratio of ``rate = 2 alpha`` against ``rate = alpha``."""
    return (hits * math.log(2.0) + (reps - hits) * math.log((1.0 - 2.0 * alpha)
                                                            / (1.0 - alpha)))


def sequential_state(kind: ControlKind, hits: int, reps: int, alpha: float,
                     max_reps: int) -> str | None:
    """Why to stop after ``hits`` in ``reps`` trials, or None to go on (module docstring)."""
    if reps >= max_reps:
        return "at the cap"
    if kind == "null":
        llr = sprt_llr(hits, reps, alpha)
        if llr <= math.log(SPRT_ERROR / (1.0 - SPRT_ERROR)):
            return "SPRT accepted alpha"
        if llr >= math.log((1.0 - SPRT_ERROR) / SPRT_ERROR):
            return "SPRT accepted 2 alpha"
        return None
    if kind == "planted":
        lo, hi = clopper_pearson(hits, reps, PLANTED_CONFIDENCE)
        if lo >= MIN_POWER:
            return f"99% CI above {MIN_POWER:g}"
        if hi < MIN_POWER:
            return f"99% CI below {MIN_POWER:g}"
    return None


def judge(control: ClaimControl, hits: int, reps: int, stopped: str = "",
          runtime_s: float = 0.0, run_id: str = "") -> ControlResult:
    """Apply the pass criterion of the control's kind to ``hits`` out of ``reps``."""
    if reps < 1 or not 0 <= hits <= reps:
        raise ValueError(f"need 0 <= hits <= reps and reps > 0, got {hits} of {reps}")
    lo, hi = clopper_pearson(hits, reps)
    rate = hits / reps
    passed: bool | None
    if control.kind == "null":
        bound = size_bound(control.alpha, reps)
        passed = rate <= bound
    elif control.kind == "planted":
        bound, passed = MIN_POWER, rate >= MIN_POWER
    else:
        bound, passed = float("nan"), None
    return ControlResult(claim=control.claim, kind=control.kind, label=control.label,
                         alpha=control.alpha, reps=reps, hits=hits, rate=rate, ci_low=lo,
                         ci_high=hi, mc_se=math.sqrt(rate * (1.0 - rate) / reps), bound=bound,
                         passed=passed, stopped=stopped, runtime_s=runtime_s, run_id=run_id,
                         known_defect=control.known_defect)


def sequential_rate(trial: Callable[[np.random.Generator], bool], kind: ControlKind,
                    alpha: float, max_reps: int, seed: int = 0,
                    look: int = NULL_LOOK) -> tuple[int, int, str]:
    """Run ``trial`` in blocks of ``look`` until :func:`sequential_state` stops; returns
    (hits, reps, why it stopped)."""
    if look < 1 or max_reps < 1:
        raise ValueError(f"look and max_reps must be positive, got {look} and {max_reps}")
    rng = np.random.default_rng(seed)
    hits = reps = 0
    while True:
        block = min(look, max_reps - reps)
        hits += sum(bool(trial(rng)) for _ in range(block))
        reps += block
        if (why := sequential_state(kind, hits, reps, alpha, max_reps)) is not None:
            return hits, reps, why


def run_control(control: ClaimControl, seed: int = 0, run_id: str = "",
                max_reps: int | None = None) -> ControlResult:
    """One control by the sequential rule; ``max_reps`` overrides its cap (the full benchmark)."""
    started = time.perf_counter()
    cap = control.max_reps if max_reps is None else max_reps
    hits, reps, why = sequential_rate(control.trial, control.kind, control.alpha, cap, seed,
                                      control.look)
    return judge(control, hits, reps, why, time.perf_counter() - started, run_id)


def run_controls(controls: Sequence[ClaimControl] | None = None, seed: int = 0,
                 run_id: str = "", max_reps: int | None = None) -> list[ControlResult]:
    """Run ``controls`` (default: all of :data:`CONTROLS`) in order."""
    chosen = CONTROLS if controls is None else controls
    return [run_control(c, seed, run_id, max_reps) for c in chosen]


def expected_failures(results: Sequence[ControlResult]) -> list[ControlResult]:
    return [r for r in results if r.passed is False and r.known_defect]


def failures(results: Sequence[ControlResult]) -> list[ControlResult]:
    return [r for r in results if r.passed is False and not r.known_defect]


def unexpected_passes(results: Sequence[ControlResult]) -> list[ControlResult]:
    return [r for r in results if r.passed is True and r.known_defect]


# --- the controls -----------------------------------------------------------------------------

SMOKE_CLASSES = 20
FULL_CLASSES = 100
PER_CLASS = 50
C4_CLASSES = 150
C10_CLASSES = 150

_ONE, _TWO = planted.ONE_MODE, planted.TWO_MODES
_EQUAL_SPREAD = planted.Stage(two_modes=True, spread_ratio=1.0)
_HALF_SPLIT = planted.Stage(two_modes=True, frac_high=0.5, spread_ratio=1.0)
_REFERENCE = planted.Stage(two_modes=True, frac_high=no_modes.REFERENCE.frac_high,
                           separation=no_modes.REFERENCE.separation)
_THIRTY = planted.Stage(two_modes=True, frac_high=0.3, separation=no_modes.REFERENCE.separation)
ABSENCE_CLASSES = 150
"""Classes in the absence claims' controls (C2; C10's nulls, whose initial blocks are an absence
test): their gate at power 1 - alpha against :data:`modes.decisions.no_modes.REFERENCE` passes
from about 150 classes (lower bound 0.997 there, 0.86 at 100), and a null must run where it
passes, or its false-positive rate is 0 untested."""


def _values(stages: tuple[planted.Stage, ...], n_classes: int
            ) -> Callable[[np.random.Generator], two_modes.LayerValues]:
    return lambda rng: planted.layer_values(rng, stages, n_classes, PER_CLASS)


def _absence(stages: tuple[planted.Stage, ...], n_classes: int
             ) -> Callable[[np.random.Generator], no_modes.AbsenceInput]:
    return lambda rng: no_modes.AbsenceInput(planted.layer_values(rng, stages, n_classes,
                                                                  PER_CLASS))


C10_PER_CLASS = 20
"""Examples per class in C10's controls: its decision reads class means and class sds (the
spread ratio), whose noise at 20 examples is already small beside the planted 8-sd separation
and 10x spread ratio, and 20 instead of 50 keeps a 100-class trial (2 backbones x 4 blocks) near
0.1 s, so the controls at the real number of classes run in every session."""


def _transformers(stages: tuple[planted.Stage, ...], n_classes: int,
                  mixer: tuple[planted.Stage, ...] | None = None
                  ) -> Callable[[np.random.Generator], transformers.TransformerInput]:
    """Both backbones with ``stages`` (or the mixer with its own ``mixer`` stages)."""
    return lambda rng: transformers.TransformerInput(
        {"vit": planted.layer_values(rng, stages, n_classes, C10_PER_CLASS),
         "mixer": planted.layer_values(rng, stages if mixer is None else mixer, n_classes,
                                       C10_PER_CLASS)})


def _generative(inp: generative.HeldOutPredictions) -> ClaimResult:
    return generative.decide_generative(inp, with_f_scores=False)


def _generative_core(inp: generative.HeldOutPredictions) -> ClaimResult:
    return generative.decide_generative_core(inp, with_f_scores=False)


def _density_controls() -> list[ClaimControl]:
    c1, c1s = two_modes.PREREG, two_modes.SPREAD
    d1, d1s = two_modes.decide_two_modes, two_modes.decide_low_spread
    d2, d4, d10 = (no_modes.decide_no_modes, complexity.decide_complexity,
                   transformers.decide_transformers)
    # size controls run the ungated cores (module docstring, "Which decision a control runs")
    n1, n1s, n4, n10 = (two_modes.decide_two_modes_core, two_modes.decide_low_spread_core,
                        complexity.decide_complexity_core, transformers.decide_transformers_core)
    c2, c4, c10 = no_modes.C2, complexity.PREREG, transformers.PREREG
    n, big = SMOKE_CLASSES, FULL_CLASSES
    return [
        ClaimControl("C1", "null", f"one mode at both deep stages, {n} classes x {PER_CLASS}",
                     c1, n1, _values((_ONE, _ONE), n)),
        ClaimControl("C1", "planted", f"two modes (25% high, 8 sd, spread 10) at both deep "
                     f"stages, {big} classes", c1, d1, _values((_TWO, _TWO), big)),
        ClaimControl("C1", "power", f"two modes (25% high, 8 sd), {n} classes", c1, d1,
                     _values((_TWO, _TWO), n)),
        ClaimControl("C1s", "null", f"two modes with equal spreads, {big} classes", c1s, n1s,
                     _values((_EQUAL_SPREAD, _EQUAL_SPREAD), big)),
        ClaimControl("C1s", "planted", f"two modes, high spread 10x lower, {big} classes", c1s,
                     d1s, _values((_TWO, _TWO), big)),
        # an absence claim's gate is its equivalence test (no_modes): its nulls run the gated
        # decision at a size where the gate passes, so that a non-rejecting dip is the error
        ClaimControl("C2", "null", f"bimodal shallow stages (50/50, 8 sd, equal spreads), "
                     f"{ABSENCE_CLASSES} classes", c2, d2,
                     _absence((_HALF_SPLIT, _HALF_SPLIT), ABSENCE_CLASSES)),
        ClaimControl("C2", "null", f"the reference effect (25% high, 8 sd) at the second "
                     f"shallow stage only, {ABSENCE_CLASSES} classes", c2, d2,
                     _absence((_ONE, _REFERENCE), ABSENCE_CLASSES)),
        ClaimControl("C2", "null", f"30% high, 8 sd, at the second shallow stage only, "
                     f"{ABSENCE_CLASSES} classes", c2, d2,
                     _absence((_ONE, _THIRTY), ABSENCE_CLASSES)),
        # the gate at power 1 - alpha against the reference passes from about 150 classes (at
        # 100 its lower bound is 0.86): absence can be accepted there, not at 100
        ClaimControl("C2", "planted", f"one mode at both shallow stages, {ABSENCE_CLASSES} "
                     "classes", c2, d2, _absence((_ONE, _ONE), ABSENCE_CLASSES)),
        ClaimControl("C4", "null", f"non-Gaussianity unrelated to density, {n} classes", c4,
                     n4, lambda rng: planted.complexity_input(rng, n)),
        ClaimControl("C4", "null", f"high classes more non-Gaussian (+3 sd) and more compact "
                     f"(-3 sd), {n} classes", c4, n4,
                     lambda rng: planted.complexity_input(rng, n, ng_shift=3.0,
                                                          compact_shift=3.0)),
        # denser because correlated: Eq. 4 (= TC) far higher in the high classes, NG equal
        ClaimControl("C4", "null", f"high classes correlated Gaussians (TC +5 nats, NG equal), "
                     f"{n} classes", c4, n4,
                     lambda rng: planted.complexity_input(rng, n, tc_shift=5.0)),
        ClaimControl("C4", "null", f"high classes correlated Gaussians (TC +5 nats, NG equal), "
                     f"{C4_CLASSES} classes", c4, n4,
                     lambda rng: planted.complexity_input(rng, C4_CLASSES, tc_shift=5.0)),
        # the gate against complexity.EFFECT (+3 sd) at 20 classes (5 high): power about 0.8,
        # lower bound 0.75, so the smoke size is an informational row; it passes from ~40
        ClaimControl("C4", "power", f"high classes more non-Gaussian (+3 sd), as compact, "
                     f"{n} classes", c4, d4,
                     lambda rng: planted.complexity_input(rng, n, ng_shift=3.0)),
        ClaimControl("C4", "planted", f"high classes more non-Gaussian (+3 sd), as compact, "
                     f"{C4_CLASSES} classes", c4, d4,
                     lambda rng: planted.complexity_input(rng, C4_CLASSES, ng_shift=3.0)),
        # C10's nulls run at ABSENCE_CLASSES, where the initial blocks' absence gate (power
        # 1 - alpha) passes: at 100 it does not, and "one mode everywhere" would pass as
        # inconclusive, untested
        ClaimControl("C10", "null", f"one mode at every block of 2 backbones x 4 blocks, "
                     f"{ABSENCE_CLASSES} classes x {C10_PER_CLASS}", c10, n10,
                     _transformers((_ONE,) * 4, ABSENCE_CLASSES)),
        # the least favourable null of the intersection-union over backbones: one backbone
        # without modes, the other with the planted effect
        ClaimControl("C10", "null", f"one mode at every ViT block, Mixer two modes at the "
                     f"deeper blocks, {ABSENCE_CLASSES} classes x {C10_PER_CLASS}", c10, n10,
                     _transformers((_ONE,) * 4, ABSENCE_CLASSES, (_ONE, _ONE, _TWO, _TWO))),
        ClaimControl("C10", "null", f"two modes at every block, initial ones too, "
                     f"{ABSENCE_CLASSES} classes x {C10_PER_CLASS}", c10, n10,
                     _transformers((_TWO,) * 4, ABSENCE_CLASSES)),
        # the pre-registered effect (transformers.EFFECT: modes at one deeper block) at a
        # size its presence gate passes: power 0.99 at 150 classes x 20, 0.69 at 100
        ClaimControl("C10", "planted", f"two modes at the last deeper block only, "
                     f"{C10_CLASSES} classes x {C10_PER_CLASS}", c10, d10,
                     _transformers((_ONE, _ONE, _ONE, _TWO), C10_CLASSES)),
    ]


C7_STRONG: dict[str, Any] = {"radius_jump": -0.8, "fscore_jump": -0.5, "abstain_after": 0.8}
C7_EFFECT: dict[str, Any] = {"radius_jump": robustness_drop.EFFECT.radius,
                             "fscore_jump": robustness_drop.EFFECT.fscore,
                             "abstain_after": 0.4 + robustness_drop.EFFECT.abstention,
                             "fscore_level": robustness_drop.FSCORE_LEVEL}
KL_STRONG: dict[str, Any] = {"stage_levels": (1.0, 2.0, 12.0, 13.0), "stage_class_sd": 0.1}


def _c7_null(part: str) -> Callable[[np.random.Generator], robustness_drop.RobustnessBins]:
    kw = {**C7_STRONG, part: 0.4 if part == "abstain_after" else 0.0}
    return lambda rng: planted.robustness_bins(rng, 8, 30, **kw)


def _c8_null(subset_sd: float) -> Callable[[np.random.Generator],
                                            class_fitting.SubsetDivergences]:
    return lambda rng: planted.subset_kl(rng, 19, subset_class_sd=subset_sd, **KL_STRONG)


def _bin_controls() -> list[ClaimControl]:
    m, r, t = planted.memorization_bins, planted.robustness_bins, planted.tracking_bins
    kl, g = planted.subset_kl, planted.generative_predictions
    c5, c6, c7 = memorization_jump.PREREG, fscore_tracking.PREREG, robustness_drop.PREREG
    c8, c9 = class_fitting.PREREG, generative.PREREG
    d5, d6, d7, d8 = (memorization_jump.decide_memorization_jump,
                      fscore_tracking.decide_fscore_tracking,
                      robustness_drop.decide_robustness_drop, class_fitting.decide_class_fitting)
    # size controls run the ungated cores (module docstring, "Which decision a control runs")
    n5, n6, n7, n8 = (memorization_jump.decide_memorization_jump_core,
                      fscore_tracking.decide_fscore_tracking_core,
                      robustness_drop.decide_robustness_drop_core,
                      class_fitting.decide_class_fitting_core)
    return [
        ClaimControl("C5", "null", "falling then flat, no jump, 8 bins x 250", c5, n5,
                     lambda rng: m(rng, 8, 250)),
        ClaimControl("C5", "null", "flat before, jump 0.15, 8 bins x 250", c5, n5,
                     lambda rng: m(rng, 8, jump=0.15, slope_before=0.0)),
        ClaimControl("C5", "planted", "jump 0.15, falling 0.006/nat, 8 bins x 250", c5, d5,
                     lambda rng: m(rng, 8, 250, jump=0.15, slope_before=-0.006)),
        ClaimControl("C6", "null", "F-score unrelated to memorization, 8 bins", c6, n6,
                     lambda rng: t(rng, 8, 0.0)),
        # the power gate (correlation -0.9) passes from 10 bins on; 8 bins are underpowered
        ClaimControl("C6", "planted", "coupling 3, 20 bins", c6, d6, lambda rng: t(rng, 20, 3.0)),
        ClaimControl("C6", "power", "coupling 3, 8 bins (smoke)", c6, d6,
                     lambda rng: t(rng, 8, 3.0)),
        *(ClaimControl("C7", "null", f"{part} at its null, the others strong, 8 bins x 30", c7,
                       n7, _c7_null(part))
          for part in ("radius_jump", "fscore_jump", "abstain_after")),
        # the pre-registered effect (robustness_drop.EFFECT) at a design its power gate passes;
        # at the smoke's 8 bins x 30 even the strong effect is underpowered against it
        ClaimControl("C7", "planted", "radius -0.1, F -0.1, abstain 0.4 -> 0.55, 50 bins x 200",
                     c7, d7, lambda rng: r(rng, 50, 200, **C7_EFFECT)),
        ClaimControl("C7", "power", "radius -0.8, F -0.5, abstain 0.4 -> 0.8, 8 bins x 30 "
                     "(smoke)", c7, d7, lambda rng: r(rng, 8, 30, **C7_STRONG)),
        *(ClaimControl("C8", "null", f"memorized = typical, class effects sd 0.3, class-by-"
                       f"subset sd {sd}, 19 classes", c8, n8, _c8_null(sd)) for sd in (0.1, 0.3)),
        ClaimControl("C8", "null", "increase 2->3 = 3->4, class-by-stage sd 0.3, 19 classes",
                     c8, n8, lambda rng: kl(rng, 19, stage_levels=(1.0, 2.0, 5.0, 8.0),
                                            stage_class_sd=0.3, memorized_shift=-0.7,
                                            subset_class_sd=0.1)),
        # the pre-registered effect (class_fitting.EFFECT: memorized x exp(-0.5)) at a size its
        # power gate passes (power 0.92 at 60 classes per subset, 0.37 at 19)
        ClaimControl("C8", "planted", "memorized x exp(-0.5), 60 classes", c8, d8,
                     lambda rng: kl(rng, 60, memorized_shift=-0.5, subset_class_sd=0.1,
                                    **KL_STRONG)),
        ClaimControl("C8", "power", "memorized x exp(-1.0), 19 classes", c8, d8,
                     lambda rng: kl(rng, 19, memorized_shift=-1.0, subset_class_sd=0.1,
                                    **KL_STRONG)),
        ClaimControl("C9", "null", "recovery 0.5, 20 classes x 100", c9, _generative_core,
                     lambda rng: g(rng, 20, 100, stage_accuracy=(0.25, 0.3, 0.45, 0.5))),
        ClaimControl("C9", "null", "memorized = unmemorized, 20 classes x 100", c9,
                     _generative_core,
                     lambda rng: g(rng, 20, 100, memorized_offset=0.0, unmemorized_offset=0.0)),
        ClaimControl("C9", "null", "gain 2->3 = 3->4, 20 classes x 100", c9, _generative_core,
                     lambda rng: g(rng, 20, 100, stage_accuracy=(0.3, 0.4, 0.6, 0.8))),
        ClaimControl("C9", "planted", "memorized -0.25, 20 classes x 100", c9, _generative,
                     lambda rng: g(rng, 20, 100, stage_accuracy=(0.35, 0.4, 0.8, 0.87),
                                   memorized_offset=-0.25)),
    ]


CONTROLS: tuple[ClaimControl, ...] = (*_density_controls(), *_bin_controls())
SMOKE_CONTROLS: tuple[ClaimControl, ...] = tuple(c for c in CONTROLS if c.smoke)


def ids(control: ClaimControl) -> str:
    """A pytest id: claim, kind and label."""
    return f"{control.claim}-{control.kind}-{control.label}"

