"""C8's decision: classes are fit between stages 2 and 3; memorized examples give less distinct
classes (paper Fig. 4).

Statistics (issue 10, item 2): classes, not class pairs, are the units.

* Every between-class KL value belongs to a pair (P, Q) that shares its classes' density fits
  (and the classes' own effects) with the other pairs of P and of Q. The former side condition,
  a Wilcoxon signed-rank test over the C (C - 1) ordered pairs, treated them as independent:
  with class effects of sd 0.1-0.3 on the memorized-minus-typical difference its false-positive
  rate at alpha 0.01 is 0.19-0.32 (19 classes; the decision's: 0.004-0.005, 4000 repetitions,
  ``benchmarks/calibrate_decisions.py``). Both parts are now tested with the delete-one-class
  jackknife of the mean over pairs (:func:`modes.stats.class_pairs.class_jackknife`, t with
  C - 1 df), whose size stays at or below alpha under those class effects. A permutation of
  class labels is not available here: swapping a class's memorized and typical subsets would
  need KL values between subsets that were never estimated.
* "Grows most between stages 2 and 3": for every other consecutive step j, the per-pair
  difference (increase 2->3) - (increase j) has a mean > 0 (one-sided jackknife t test); the
  intersection-union of these tests replaces the class bootstrap of the margin over the largest
  other increase, whose percentile p-value is too small at alpha 0.01 with 19 classes when
  classes differ in the stage at which they are fit (0.022 at nominal 0.01, 2000 repetitions;
  the jackknife's 0.003).
  The effect is the margin: increase 2->3 minus the largest other increase (mean KL).
* "Memorized examples give less distinct classes" (at the last stage): mean over the memorized
  subset's class pairs minus mean over the typical subset's < 0. The subsets do not share their
  classes (issue 11, item 3: the authors' split files, which produced Fig. 4, give each subset
  its own class set, e.g. 53 memorized and 61 typical classes on ResNet18 / CIFAR-100, so no
  pair is measured in both), so the two means are compared as independent samples of classes:
  each with its delete-one-class jackknife variance, Welch-Satterthwaite degrees of freedom
  (:func:`modes.stats.class_pairs.class_jackknife_difference`), one-sided.
* The claim's p-value is the intersection-union p (largest of the parts'; see
  :mod:`modes.decisions.conjunction`).
* Power decides (issue 10, item 4): the decision's power against :data:`EFFECT` at this run's
  numbers of classes per subset and of stages is simulated before the verdict is read
  (:func:`modes.decisions.power_gate.power_gate`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import attrs
import numpy as np

from modes.decisions.conjunction import Condition, condition_details, intersection_union
from modes.decisions.power_gate import GATE_REPS, power_gate
from modes.evidence import inconclusive
from modes.stats.claim import REPLICATED, ClaimResult, Preregistration, evaluate
from modes.stats.class_pairs import (
    PairMeanDifference,
    PairMeanTest,
    class_jackknife,
    class_jackknife_difference,
)
from modes.stats.power import PowerEstimate, simulate_power

PREREG = Preregistration(
    claim_id="C8",
    hypothesis="The mean between-class KL divergence (Eq. 4, both directions) grows most between "
               "stages 2 and 3, and memorized examples give less distinct classes than typical "
               "ones at the last stage",
    paper_ref="Fig. 4",
    test="classes as units (delete-one-class jackknife t tests of means over ordered class "
         "pairs, C - 1 df): on the random subset, (increase 2->3) - (increase j) > 0 for every "
         "other step j; at the last stage mean KL over the memorized subset's class pairs minus "
         "that over the typical subset's (own class sets) < 0, Welch jackknife t; "
         "intersection-union of all",
    effect_name="margin of the stage 2->3 increase over the largest other (nats)",
    effect_threshold=0.0,
    effect_direction="greater",
    kind="presence",
)

SUBSETS = ("memorized", "typical", "random")
TARGET = 1  # the increase from stage 2 to stage 3


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _matrices(value: Mapping[str, object]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=float) for k, v in value.items()}


def ordered_pairs(n_classes: int) -> np.ndarray:
    """Ordered class pairs (P, Q), P != Q, shape (C (C - 1), 2)."""
    a, b = np.nonzero(~np.eye(n_classes, dtype=bool))
    return np.column_stack([a, b])


@attrs.frozen(eq=False)
class SubsetDivergences:
    """``kl[subset]`` (stages, C_s, C_s): KL from class P's to class Q's predictive density per
    stage, among the classes of that subset (the diagonal is ignored). Each subset of
    :data:`SUBSETS` has its own class set and size (the Fig. 4 rule,
    :func:`modes.components.memorization.fig4_split`)."""

    kl: dict[str, np.ndarray] = attrs.field(converter=_matrices)
    stages: tuple[str, ...] = attrs.field(converter=_names)

    def __attrs_post_init__(self) -> None:
        if set(self.kl) != set(SUBSETS):
            raise ValueError(f"kl must have the subsets {list(SUBSETS)}, got {sorted(self.kl)}")
        for s, m in self.kl.items():
            if m.ndim != 3 or m.shape[1] != m.shape[2]:
                raise ValueError(f"kl[{s!r}] must have shape (stages, C, C), got {m.shape}")
            if m.shape[0] != len(self.stages):
                raise ValueError(f"{len(self.stages)} stage names for {m.shape[0]} stages in "
                                 f"kl[{s!r}]")

    def n_classes_of(self, subset: str) -> int:
        return int(self.kl[subset].shape[1])

    @property
    def n_classes(self) -> int:
        """Classes of the smallest subset (every part of the test needs 3)."""
        return min(self.n_classes_of(s) for s in SUBSETS)

    def pairs(self, subset: str) -> np.ndarray:
        """Ordered class pairs of ``subset``, indices into its classes."""
        return ordered_pairs(self.n_classes_of(subset))

    def per_pair(self, subset: str) -> np.ndarray:
        """KL per stage over the subset's ordered pairs, shape (stages, pairs)."""
        a, b = self.pairs(subset).T
        values: np.ndarray = self.kl[subset][:, a, b]
        return values


def _account(test: PairMeanTest | PairMeanDifference) -> str:
    return (f"mean {test.mean:.3g} nats, 95% CI [{test.ci_low:.3g}, {test.ci_high:.3g}], "
            f"{test.n_classes} classes")


@attrs.frozen
class FittingEffect:
    """Mean between-class KL per stage, ``levels`` for the first stages and then ``step`` more
    per further stage; memorized pairs' KL times ``exp(memorized_shift)``. Class, class-by-stage,
    class-by-subset and pair effects as in :func:`modes.decisions.planted.subset_kl`."""

    levels: tuple[float, ...] = (1.0, 2.0, 12.0)
    step: float = 1.0
    memorized_shift: float = -0.5
    class_sd: float = 0.3
    stage_class_sd: float = 0.1
    subset_class_sd: float = 0.1
    pair_sd: float = 0.3

    def stage_levels(self, stages: int) -> tuple[float, ...]:
        extra = tuple(self.levels[-1] + self.step * (i + 1)
                      for i in range(stages - len(self.levels)))
        return (*self.levels, *extra)[:stages]


EFFECT = FittingEffect()
"""C8's pre-registered effect. "Class representations are formed mostly between the second and
the third stage": mean KL 1, 2, 12 nats at stages 1-3 and 1 nat more per later stage (the 2->3
increase ten times any other). "Memorized examples induce slightly less distinct class
representations": memorized pairs' KL a factor exp(-0.5) = 0.61 of the typical ones', a
visible but modest shift ("slightly"). Class effects (sd 0.3 on log KL per class, 0.1 by stage
and by subset, 0.3 per pair) are the planted controls' (a class's pairs share its fit). Fixed
here, never read from the run."""


def decide_class_fitting(inp: SubsetDivergences, prereg: Preregistration = PREREG
                         ) -> ClaimResult:
    """Stage 2->3 increase larger than every other and memorized < typical at the last stage,
    classes as units, power-gated against :data:`EFFECT` at this run's numbers of classes per
    subset and of stages (module docstring)."""
    result = _decide(inp, prereg)
    if not np.isfinite(result.statistic):
        return result  # too few classes or stages, or non-finite KL: inconclusive by its rule
    sizes = tuple(inp.n_classes_of(s) for s in SUBSETS)
    return power_gate(result, _power(prereg, sizes, len(inp.stages)),
                      f"{', '.join(f'{n} {s}' for n, s in zip(sizes, SUBSETS, strict=True))} "
                      f"classes, {len(inp.stages)} stages, against mean KL "
                      f"{list(EFFECT.stage_levels(len(inp.stages)))} by stage and memorized "
                      f"pairs x exp({EFFECT.memorized_shift:g})")


def decide_class_fitting_core(inp: SubsetDivergences, prereg: Preregistration = PREREG
                              ) -> ClaimResult:
    """The ungated decision: the pre-registered test without the power gate. What a size
    (null) control runs, so that its false-positive rate measures the test; the gated
    :func:`decide_class_fitting` is what the claim reports."""
    return _decide(inp, prereg)


@functools.lru_cache(maxsize=32)
def _power(prereg: Preregistration, sizes: tuple[int, ...], stages: int) -> PowerEstimate:
    """Power of the ungated decision against :data:`EFFECT` at this design, seeded."""
    from modes.decisions import planted  # planted builds this module's input type

    e = EFFECT
    return simulate_power(
        lambda kl: _decide(kl, prereg).verdict == REPLICATED,
        lambda rng: planted.subset_kl(
            rng, stage_levels=e.stage_levels(stages), memorized_shift=e.memorized_shift,
            class_sd=e.class_sd, stage_class_sd=e.stage_class_sd,
            subset_class_sd=e.subset_class_sd, pair_sd=e.pair_sd,
            subset_sizes=(sizes[0], sizes[1], sizes[2])),
        GATE_REPS, seed=0)


def _decide(inp: SubsetDivergences, prereg: Preregistration) -> ClaimResult:
    """The ungated decision (module docstring)."""
    stages, c = len(inp.stages), inp.n_classes_of("random")
    if inp.n_classes < 3 or stages < 3:
        sizes = ", ".join(f"{inp.n_classes_of(s)} {s}" for s in SUBSETS)
        return inconclusive(prereg, inp.n_classes,
                            f"classes per subset: {sizes}; {stages} stages; the test needs at "
                            "least 3 classes in every subset and 3 stages")
    if not np.all(np.isfinite(inp.per_pair("random"))) or not np.all(
            np.isfinite(inp.per_pair("memorized")[-1])) or not np.all(
            np.isfinite(inp.per_pair("typical")[-1])):
        return inconclusive(prereg, c, "some between-class KL values are not finite")
    pairs = inp.pairs("random")
    increases = np.diff(inp.per_pair("random"), axis=0)
    others = [j for j in range(stages - 1) if j != TARGET]
    growth = {j: class_jackknife(increases[TARGET] - increases[j], pairs, "greater")
              for j in others}
    memorized = class_jackknife_difference(
        inp.per_pair("memorized")[-1], inp.pairs("memorized"), inp.per_pair("typical")[-1],
        inp.pairs("typical"), "less")
    conditions = [
        *(Condition(f"increase 2->3 above increase {j + 1}->{j + 2}", g.t, g.p_value,
                    _account(g)) for j, g in growth.items()),
        Condition("memorized less distinct than typical at the last stage", memorized.t,
                  memorized.p_value, _account(memorized)),
    ]
    p, failed = intersection_union(conditions, prereg.alpha)
    closest = min(growth.values(), key=lambda g: g.mean)
    mean_increase = increases.mean(axis=1)
    return evaluate(
        prereg, statistic=closest.t, p_value=p, effect_size=closest.mean,
        ci=(closest.ci_low, closest.ci_high), n=c, note=failed,
        details={"increases": mean_increase.tolist(), "n_classes": c,
                 "n_pairs": len(pairs), "stages": list(inp.stages),
                 "subset_classes": {s: inp.n_classes_of(s) for s in SUBSETS},
                 "conditions": condition_details(conditions),
                 "memorized_minus_typical": memorized.mean,
                 "memorized_minus_typical_ci": [memorized.ci_low, memorized.ci_high],
                 "memorized_vs_typical_p": memorized.p_value})
