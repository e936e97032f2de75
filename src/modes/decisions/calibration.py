"""How often a decision replicates on planted inputs: its false-positive rate on a null and its
power on a planted effect, with the Monte Carlo error needed to read them.

A null passes when its rate is at most ``alpha + 2`` Monte Carlo standard errors (issue 10's
criterion); with 2000 repetitions at alpha 0.01 that bound is 0.0145, so a rate of 2 alpha
(0.02) is told from alpha.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import attrs
import numpy as np

from modes.stats.claim import REPLICATED, ClaimResult
from modes.stats.power import clopper_pearson

Input = TypeVar("Input")


@attrs.frozen
class Rate:
    """``hits`` replicated verdicts in ``reps`` planted inputs, with the exact 95% CI."""

    hits: int
    reps: int

    @property
    def rate(self) -> float:
        return self.hits / self.reps

    @property
    def ci(self) -> tuple[float, float]:
        return clopper_pearson(self.hits, self.reps)

    def __str__(self) -> str:
        lo, hi = self.ci
        return f"{self.rate:.4f} ({self.hits}/{self.reps}, 95% CI [{lo:.4f}, {hi:.4f}])"


def size_bound(alpha: float, reps: int) -> float:
    """The largest false-positive rate that passes: alpha + 2 Monte Carlo standard errors."""
    return alpha + 2.0 * math.sqrt(alpha * (1.0 - alpha) / reps)


def replication_rate(decide: Callable[[Input], ClaimResult],
                     planted: Callable[[np.random.Generator], Input], reps: int,
                     seed: int = 0) -> Rate:
    """Run ``decide`` on ``reps`` inputs drawn by ``planted`` from one seeded generator."""
    if reps < 1:
        raise ValueError(f"reps must be positive, got {reps}")
    rng = np.random.default_rng(seed)
    hits = sum(decide(planted(rng)).verdict == REPLICATED for _ in range(reps))
    return Rate(int(hits), reps)
