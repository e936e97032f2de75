"""One-cycle learning rate (Feldman & Zhang 2020): linear min_lr -> max_lr over the first
``warmup_fraction`` of the steps, then linear max_lr -> min_lr."""

from __future__ import annotations

import numpy as np

from modes.scale import TrainScale


def one_cycle_lr(step: int | np.ndarray, total_steps: int, train: TrainScale) -> np.ndarray:
    """Learning rate at ``step`` (0-based) of ``total_steps``."""
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    peak = train.warmup_fraction * total_steps
    return np.asarray(np.interp(step, [0.0, peak, float(total_steps)],
                                [train.min_lr, train.max_lr, train.min_lr]))
