"""Turning a scenario's outputs into the inputs of the claims' statistical tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from modes.report.specs import FigureSpec
from modes.stats.claim import ClaimResult, Preregistration
from modes.stats.claim import require as require  # the claim modules import it from here
from modes.stats.modality import (
    DipResult,
    MixtureBIC,
    TwoModeEvidence,
    class_means,
    class_sds,
    two_mode_evidence,
)
from modes.stats.split import largest_gap_split
from modes.stats.verdict import Verdict


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
    """C1's evidence at one layer, with the spread ratio as numbers (NaN where the largest gap
    isolates one class and no ratio CI exists)."""

    evidence: TwoModeEvidence

    @property
    def dip(self) -> DipResult:
        return self.evidence.dip

    @property
    def bic(self) -> MixtureBIC:
        return self.evidence.bic

    @property
    def threshold(self) -> float:
        return self.evidence.threshold

    @property
    def n_high(self) -> int:
        return self.evidence.n_high

    @property
    def ratio(self) -> float:
        s = self.evidence.spread
        return s.ratio if s is not None else float("nan")

    @property
    def ratio_ci(self) -> tuple[float, float]:
        s = self.evidence.spread
        return (s.ci_low, s.ci_high) if s is not None else (float("nan"), float("nan"))

    @property
    def ratio_or_zero(self) -> float:
        """The ratio, 0 where undefined (for ranking layers by effect)."""
        return float(np.nan_to_num(self.ratio, nan=0.0))


def layer_evidence(values: Sequence[np.ndarray], labels: np.ndarray) -> list[LayerModes]:
    """C1's evidence at each given layer."""
    return [LayerModes(two_mode_evidence(per_class(v, labels))) for v in values]


def assert_replicated(result: ClaimResult) -> None:
    """The claim's assertion, with every number a reader needs in the message."""
    p = result.prereg
    why = result.explanation
    message = (
        f"{result.claim_id} {result.verdict}: {p.hypothesis} | {p.test}: "
        f"statistic={result.statistic:.4g}, p={result.p_value:.3g} (alpha={p.alpha}), "
        f"{p.effect_name}={result.effect_size:.4g} [{result.ci_low:.4g}, {result.ci_high:.4g}] "
        f"vs threshold {p.effect_direction} {p.effect_threshold}, n={result.n}"
        + (f", power={result.power:.3f}" if result.power is not None else "")
        + (f" | {why}" if why else "")
    )
    assert result.verdict is Verdict.REPLICATED, message


def inconclusive(prereg: Preregistration, n: int, note: str) -> ClaimResult:
    """A result for a claim whose experiment could not run on this scenario; ``note`` says why.
    Its numbers are NaN, so :func:`~modes.stats.claim.decide` finds it inconclusive."""
    nan = float("nan")
    return ClaimResult(prereg=prereg, statistic=nan, p_value=nan, effect_size=nan, ci_low=nan,
                       ci_high=nan, n=n, note=note)


def figure3_spec(table: Any, title: str) -> FigureSpec:
    """Fig. 3 (all per-bin panels) as a figure spec, from a density-bin table."""
    def series(mean: np.ndarray, sd: np.ndarray | None = None) -> list[object]:
        return [mean, sd]

    panels = [
        {"title": "log-density", "ylabel": "log-density",
         "series": {"mean": series(table.log_density_mean, table.log_density_sd)}},
        {"title": "memorization", "ylabel": "score",
         "series": {"mean": series(table.memorization_mean, table.memorization_sd)}},
        {"title": "low/high-density fraction", "ylabel": "fraction",
         "series": {"low-density": series(table.low_fraction),
                    "high-density": series(table.high_fraction)}},
        {"title": "F-score (held-out bin)", "ylabel": "F",
         "series": {"F-score": series(table.heldout_fscore)}},
        {"title": f"certified radius ({table.noise_space}-space noise)",
         "ylabel": "radius ([0, 1] pixels)",
         "series": {"mean": series(np.nan_to_num(table.radius_mean),
                                   np.nan_to_num(table.radius_sd))}},
        {"title": "non-abstain rate", "ylabel": "rate",
         "series": {"rate": series(table.non_abstain_rate)}},
        {"title": "smoothed F-score", "ylabel": "F",
         "series": {"F-score": series(table.smoothed_fscore)}},
    ]
    return FigureSpec("density_bins", "fig3_density_bins", {"panels": panels, "title": title})
