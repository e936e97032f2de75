"""Turning a scenario's outputs into the inputs of the claims' statistical tests."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from modes.stats.claim import INCONCLUSIVE, REPLICATED, ClaimResult, Preregistration
from modes.stats.modality import (
    DipResult,
    MixtureBIC,
    class_means,
    class_sds,
    dip_test,
    mixture_bic,
)
from modes.stats.split import largest_gap_split


def per_class(values: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """``values`` split by class label, classes in increasing label order."""
    return [values[labels == c] for c in np.unique(labels)]


def profile_panel(values: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    """Data of one Fig. 1 panel: per-class mean and sd of log-density and the split threshold."""
    groups = per_class(values, labels)
    means = class_means(groups)
    return {"means": means, "sds": class_sds(groups),
            "threshold": largest_gap_split(means).threshold}


@attrs.frozen
class LayerModes:
    """C1's evidence at one layer: largest-gap split, dip test, BIC and spread ratio (NaN when the
    split leaves fewer than 2 classes on a side, where no ratio CI exists)."""

    threshold: float
    n_high: int
    dip: DipResult
    bic: MixtureBIC
    ratio: float
    ratio_ci: tuple[float, float]

    @property
    def ratio_or_zero(self) -> float:
        """The ratio, 0 where undefined (for ranking layers by effect)."""
        return float(np.nan_to_num(self.ratio, nan=0.0))


def layer_evidence(values: Sequence[np.ndarray], labels: np.ndarray) -> list[LayerModes]:
    """C1's evidence at each given layer."""
    out = []
    for v in values:
        groups = per_class(v, labels)
        means = class_means(groups)
        split = largest_gap_split(means)
        ratio, lo, hi = _spread_or_nan(groups)
        out.append(LayerModes(threshold=split.threshold, n_high=split.n_high,
                              dip=dip_test(means), bic=mixture_bic(means), ratio=ratio,
                              ratio_ci=(lo, hi)))
    return out


def assert_replicated(result: ClaimResult) -> None:
    """The claim's assertion, with every number a reader needs in the message."""
    p = result.prereg
    message = (
        f"{result.claim_id} {result.verdict}: {p.hypothesis} | {p.test}: "
        f"statistic={result.statistic:.4g}, p={result.p_value:.3g} (alpha={p.alpha}), "
        f"{p.effect_name}={result.effect_size:.4g} [{result.ci_low:.4g}, {result.ci_high:.4g}] "
        f"vs threshold {p.effect_direction} {p.effect_threshold}, n={result.n}"
        + (f", power={result.power:.3f}" if result.power is not None else "")
        + (f" | {result.note}" if result.note else "")
    )
    assert result.verdict == REPLICATED, message


def require(result: ClaimResult, condition: bool, reason: str) -> ClaimResult:
    """Downgrade a replicated result to "not replicated" when a pre-registered side condition
    fails; ``reason`` (with its numbers) is appended to the result's note."""
    from modes.stats.claim import NOT_REPLICATED

    if condition or result.verdict != REPLICATED:
        return result
    note = f"{result.note}; {reason}" if result.note else reason
    return attrs.evolve(result, verdict=NOT_REPLICATED, note=note)


def _spread_or_nan(groups: list[np.ndarray]) -> tuple[float, float, float]:
    """Spread ratio and CI at the largest-gap split, NaN when a side has fewer than 2 classes."""
    from modes.stats.modality import spread_ratio

    split = largest_gap_split(class_means(groups))
    if min(int(split.high.sum()), int((~split.high).sum())) < 2:
        return float("nan"), float("nan"), float("nan")
    s = spread_ratio(groups, split.high)
    return s.ratio, s.ci_low, s.ci_high


def reference_effect(values: np.ndarray, labels: np.ndarray) -> object:
    """The two-mode effect seen at a layer (C1's last stage), for power of absence claims."""
    from modes.stats.power import TwoModeEffect

    means = class_means(per_class(values, labels))
    return TwoModeEffect.from_class_means(means, largest_gap_split(means).high)


def absence_numbers(values: Sequence[np.ndarray], labels: np.ndarray, reference: object,
                    alpha: float, power_reps: int = 400, seed: int = 0) -> dict[str, object]:
    """Numbers for "no two modes at any of these layers" (C2, C3, C10's initial blocks).

    Any layer with two modes refutes the claim, so the dip p-values are Bonferroni-combined
    (min p times the number of layers). The effect is the largest spread ratio over layers with a
    defined split, with that layer's CI (an equivalence bound when the CI stays below the
    threshold). Power: simulated power of the per-layer decision rule (dip at alpha/L and BIC)
    against the ``reference`` two-mode effect with this many classes.
    """
    from modes.stats.modality import TwoModeRule
    from modes.stats.power import TwoModeEffect, two_mode_power

    groups = [per_class(v, labels) for v in values]
    dips = [dip_test(class_means(g)) for g in groups]
    spreads = [_spread_or_nan(g) for g in groups]
    finite = [i for i, s in enumerate(spreads) if np.isfinite(s[0])]
    worst = max(finite, key=lambda i: spreads[i][0]) if finite else None
    p_min = min(d.p_value for d in dips)
    lowest = min(range(len(dips)), key=lambda i: dips[i].p_value)
    assert isinstance(reference, TwoModeEffect)
    rule = TwoModeRule(alpha=alpha / len(values))
    power = two_mode_power(reference, len(groups[0]), rule=rule, reps=power_reps, seed=seed)
    effect, lo, hi = spreads[worst] if worst is not None else (float("nan"),) * 3
    return {
        "statistic": dips[lowest].statistic,
        "p_value": min(1.0, p_min * len(values)),
        "effect_size": effect,
        "ci": (lo, hi),
        "n": dips[lowest].n,
        "power": power.power,
        "details": {"dip_p": [d.p_value for d in dips], "spread_ratio": [s[0] for s in spreads],
                    "reference_separation": reference.separation,
                    "reference_frac_high": reference.frac_high,
                    "power_ci": [power.ci_low, power.ci_high]},
    }


def inconclusive(prereg: Preregistration, n: int, note: str) -> ClaimResult:
    """A result for a claim whose experiment could not run on this scenario; ``note`` says why."""
    nan = float("nan")
    return ClaimResult(prereg=prereg, statistic=nan, p_value=nan, effect_size=nan, ci_low=nan,
                       ci_high=nan, n=n, verdict=INCONCLUSIVE, note=note)
