"""C1's decision: two modes of class fitting in the deep stages (paper Fig. 1)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import numpy as np

from modes.evidence import layer_evidence, require
from modes.stats.claim import ClaimResult, Preregistration, evaluate

PREREG = Preregistration(
    claim_id="C1",
    hypothesis="In ResNet stages 3 and 4 the class-mean log-densities (Eq. 3) form two modes, and "
               "the low-density classes' per-example log-density spread is a large factor above "
               "the high-density classes'",
    paper_ref="Fig. 1",
    test="Hartigan's dip test on class means at each deep stage (intersection-union: max p), "
         "BIC prefers 2 over 1 Gaussian by > 10 at each, spread ratio (low/high sd) at the "
         "largest-gap split",
    effect_name="min spread ratio over deep stages",
    effect_threshold=3.0,
    effect_direction="greater",
    kind="presence",
)


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _arrays(value: Iterable[np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in value)


@attrs.frozen(eq=False)
class LayerValues:
    """Per-example class-conditional log-densities at some layers; ``labels`` (N,) the classes."""

    layers: tuple[str, ...] = attrs.field(converter=_names)
    log_density: tuple[np.ndarray, ...] = attrs.field(converter=_arrays)
    labels: np.ndarray

    def __attrs_post_init__(self) -> None:
        if len(self.layers) != len(self.log_density) or not self.layers:
            raise ValueError(f"need one log-density array per layer, got {len(self.layers)} "
                             f"layers and {len(self.log_density)} arrays")
        for name, v in zip(self.layers, self.log_density, strict=True):
            if np.shape(v) != np.shape(self.labels):
                raise ValueError(f"layer {name!r}: {np.shape(v)} values for "
                                 f"{np.shape(self.labels)} labels")


def decide_two_modes(values: LayerValues, prereg: Preregistration = PREREG) -> ClaimResult:
    """Two modes at every given layer: dip p (max over layers) below alpha, spread ratio (min over
    layers) beyond the threshold, and BIC margin > 10 at every layer."""
    evidence = layer_evidence(list(values.log_density), values.labels)
    worst_p = max(range(len(evidence)), key=lambda i: evidence[i].dip.p_value)
    weakest = min(range(len(evidence)), key=lambda i: evidence[i].ratio_or_zero)
    ev = evidence[weakest]
    result = evaluate(
        prereg, statistic=evidence[worst_p].dip.statistic,
        p_value=evidence[worst_p].dip.p_value, effect_size=ev.ratio, ci=ev.ratio_ci,
        n=ev.dip.n,
        details={
            "stages": list(values.layers),
            "dip_p": [e.dip.p_value for e in evidence],
            "dip_statistic": [e.dip.statistic for e in evidence],
            "bic_delta": [e.bic.delta for e in evidence],
            "spread_ratio": [e.ratio for e in evidence],
            "n_high_classes": [e.n_high for e in evidence],
            "threshold": [e.threshold for e in evidence],
        },
    )
    return require(result, all(e.bic.delta > 10.0 for e in evidence),
                   f"BIC margin not > 10 at every deep stage: {[e.bic.delta for e in evidence]}")
