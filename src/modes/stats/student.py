"""Student's t p-values and t ratios shared by the t tests (piecewise, class pairs, clusters)."""

from __future__ import annotations

import math
from typing import Literal

from scipy import stats

Alternative = Literal["greater", "less", "two-sided"]


def t_p_value(t: float, df: float, alternative: Alternative) -> float:
    """The p-value of ``t`` on ``df`` degrees of freedom for the stated alternative."""
    if alternative == "greater":
        return float(stats.t.sf(t, df))
    if alternative == "less":
        return float(stats.t.cdf(t, df))
    if alternative == "two-sided":
        return float(2.0 * stats.t.sf(abs(t), df))
    raise ValueError(f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}")


def t_ratio(diff: float, se: float, scale: float = 1.0) -> float:
    """``diff / se``; where the se is zero up to rounding (every unit agrees exactly), 0 when
    ``diff`` is zero up to rounding too, else +-inf. ``scale`` is the size of the estimates."""
    tol = 1e-12 * max(1.0, abs(scale))
    if se > tol:
        return diff / se
    return 0.0 if abs(diff) <= tol else math.copysign(math.inf, diff)
