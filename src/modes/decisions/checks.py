"""A claim's verdict under one density measurement, gated by that measurement's checks.

Sampler-artifact issue: a density-based presence claim is ``replicated`` only if its pattern holds
on converged, non-degenerate densities **and** the same decision, run on the matched nulls
(:mod:`modes.measures`), shows the pattern at a rate no greater than the claim's alpha; otherwise
the verdict names the check that failed: ``inconclusive`` when classes are flagged (their
densities cannot be read), ``not replicated`` when the matched nulls show the pattern: then the
classes' means and covariances, read through this measurement, produce it without any structure
beyond them (the sampler artifact is one way; classes whose covariance spectra differ enough in
log-determinant are another, see ``benchmarks/check_worlds.py``). An absence claim cannot be
``replicated`` on flagged classes either.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs
import numpy as np

from modes.components.density.class_diagnostics import ClassDiagnostics
from modes.stats.claim import ClaimResult, require
from modes.stats.power import clopper_pearson
from modes.stats.verdict import Verdict


@attrs.frozen
class MeasuredVerdict:
    """The decision on the real classes and on each matched-null replicate, plus the flags."""

    measure: str
    result: ClaimResult
    null_verdicts: tuple[Verdict, ...]
    flagged: tuple[str, ...]
    diagnostics: dict[str, dict[str, object]] = attrs.field(factory=dict)

    @property
    def null_hits(self) -> int:
        return sum(v is Verdict.REPLICATED for v in self.null_verdicts)

    @property
    def null_rate(self) -> float:
        return self.null_hits / len(self.null_verdicts) if self.null_verdicts else math.nan

    @property
    def null_ci(self) -> tuple[float, float]:
        if not self.null_verdicts:
            return (math.nan, math.nan)
        return clopper_pearson(self.null_hits, len(self.null_verdicts))

    def summary(self) -> dict[str, Any]:
        r = self.result
        return {"verdict": r.verdict, "p_value": r.p_value, "effect_size": r.effect_size,
                "note": r.explanation, "null_rate": self.null_rate, "null_hits": self.null_hits,
                "null_replicates": len(self.null_verdicts), "null_rate_ci": list(self.null_ci),
                "flagged": list(self.flagged), "details": r.details,
                "class_diagnostics": self.diagnostics}


def flag_reasons(diagnostics: Sequence[tuple[str, ClassDiagnostics]],
                 kinds: tuple[str, ...] = ("chains_disagree", "degenerate", "overfit")
                 ) -> tuple[str, ...]:
    """``"layer, class c: reason"`` for every flagged class of the given layers."""
    out = []
    for layer, diag in diagnostics:
        hit = np.zeros(diag.classes.size, bool)
        for kind in kinds:
            hit |= getattr(diag, kind)
        for i in np.flatnonzero(hit):
            reasons = [r for r in diag.reasons(int(i))
                       if any(r.startswith(_PREFIX[k]) for k in kinds)]
            out.append(f"{layer}, class {diag.classes[i]}: {'; '.join(reasons)}")
    return tuple(out)


_PREFIX = {"chains_disagree": "chains disagree", "degenerate": "degenerate",
           "overfit": "held-out"}


def gated(m: MeasuredVerdict) -> ClaimResult:
    """The result of a measurement with its checks as side conditions (module docstring)."""
    r = m.result
    details = {**r.details, "measure": m.measure, "null_rate": m.null_rate,
               "null_hits": m.null_hits, "null_replicates": len(m.null_verdicts),
               "null_rate_ci": list(m.null_ci), "flagged_classes": list(m.flagged)}
    shown = "; ".join(m.flagged[:5]) + (f" (+{len(m.flagged) - 5} more)"
                                        if len(m.flagged) > 5 else "")
    r = require(attrs.evolve(r, details=details), not m.flagged,
                f"{len(m.flagged)} class densities cannot be read ({shown})",
                Verdict.INCONCLUSIVE)
    if r.prereg.kind == "absence":
        return r
    r = require(r, bool(m.null_verdicts), "no matched nulls were fitted (null_replicates = 0), "
                "so the pattern is unchecked", Verdict.INCONCLUSIVE)
    return require(r, not m.null_rate > r.prereg.alpha,
                   f"the matched nulls (single Gaussians with the classes' means and covariances) "
                   f"show the pattern in {m.null_hits} of {len(m.null_verdicts)} replicates: "
                   f"the classes' means and covariances, read through this measurement, produce "
                   f"it without structure beyond them")


class MeasuredLayer(Protocol):
    """What the claims read of one layer's measurement (``modes.scenario.LayerDensities``)."""

    @property
    def layer(self) -> str: ...

    @property
    def diagnostics(self) -> ClassDiagnostics: ...

    @property
    def null_replicates(self) -> int: ...


def both_measures(layers_of: Callable[[str, bool], Sequence[MeasuredLayer]],
                  build: Callable[[str, Sequence[MeasuredLayer], int | None], Any],
                  decide: Callable[[Any], ClaimResult],
                  measures: Sequence[str] = ("paper", "checked")) -> dict[str, MeasuredVerdict]:
    """Each measurement's verdict. ``layers_of(measure, nulls)`` are the layers the claim reads
    (with their matched nulls when ``nulls``), ``build(measure, layers, r)`` the decision's input
    from the real classes (``r=None``) or from matched null ``r``, ``decide`` the claim's pure
    decision. The nulls are fitted and decided only for a presence claim whose decision on the
    real classes replicates: only then can they change the verdict (:func:`gated`); an absence
    claim's verdict does not depend on them."""
    out = {}
    for measure in measures:
        layers = layers_of(measure, False)
        result = decide(build(measure, layers, None))
        null_verdicts: tuple[Verdict, ...] = ()
        if result.verdict is Verdict.REPLICATED and result.prereg.kind == "presence":
            with_nulls = layers_of(measure, True)
            reps = min(ld.null_replicates for ld in with_nulls)
            null_verdicts = tuple(decide(build(measure, with_nulls, r)).verdict
                                  for r in range(reps))
        out[measure] = MeasuredVerdict(
            measure=measure, result=result, null_verdicts=null_verdicts,
            flagged=flag_reasons([(ld.layer, ld.diagnostics) for ld in layers]),
            diagnostics={ld.layer: ld.diagnostics.summary() for ld in layers})
    return out


def final(verdicts: dict[str, MeasuredVerdict], primary: str = "checked") -> ClaimResult:
    """The primary measurement's gated verdict, every measurement's numbers in its details."""
    result = gated(verdicts[primary])
    return attrs.evolve(result, details={
        **result.details, "measures": {m: v.summary() for m, v in verdicts.items()}})
