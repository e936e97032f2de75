"""The paper's rule for grouping classes into low- and high-density classes.

"We sort classes according to their mean log-densities and find interval (C_i, C_{i+1}) in this
sequence with the largest mean log-density difference. We use center of this interval to assign
classes to the two groups." (Section "How residual networks fit classes", Fig. 1, stage 4.)
"""

from __future__ import annotations

import attrs
import numpy as np


def as_sample(x: object, name: str, min_size: int = 2) -> np.ndarray:
    """``x`` as a finite 1-D float array of at least ``min_size`` values, else a ValueError."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} needs at least {min_size} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


@attrs.frozen(eq=False)
class GapSplit:
    """Result of the largest-gap split of class-mean log-densities.

    ``high`` is a boolean mask over classes in their original order; ``gap`` is the width of the
    largest interval ``(C_i, C_{i+1})`` and ``threshold`` its centre.
    """

    threshold: float
    gap: float
    high: np.ndarray

    @property
    def n_high(self) -> int:
        return int(self.high.sum())

    @property
    def n_low(self) -> int:
        return int(self.high.size - self.high.sum())


def largest_gap_split(class_means: object) -> GapSplit:
    """Split classes at the centre of the largest gap between consecutive sorted means.

    Ties between equally large gaps go to the lowest one (the first in sorted order).
    """
    means = as_sample(class_means, "class_means")
    ordered = np.sort(means)
    gaps = np.diff(ordered)
    i = int(np.argmax(gaps))
    threshold = float(0.5 * (ordered[i] + ordered[i + 1]))
    if gaps[i] <= 0.0:
        raise ValueError("class_means are all equal; there is no gap to split at")
    return GapSplit(threshold=threshold, gap=float(gaps[i]), high=means > threshold)
