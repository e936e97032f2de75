"""Holm correction of the claims' primary p-values (family-wise alpha 0.01 by default).

The family is the claims of one run (one pytest session, one ``run_id``): :func:`family_wise`
places each claim of a run in it, and the claim's verdict then reads its Holm-adjusted p-value
(:func:`modes.stats.claim.decide`). The report, the terminal's verdict table and pytest's exit
status all take their verdicts from here; records of other runs never join the family.

Holm's step-down procedure: sort the m p-values, multiply the k-th smallest by (m - k + 1), take
the running maximum and cap at 1; reject where the adjusted p-value is below alpha. It equals
``statsmodels.stats.multitest.multipletests(p, alpha, method="holm")`` (checked in the tests),
computed here directly because statsmodels runs ``gc.collect()`` on every Holm call, which makes
the controls' thousands of calls take tens of seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from modes.stats.claim import ClaimResult
from modes.stats.verdict import FamilyWise

DEFAULT_FAMILY_ALPHA = 0.01


@attrs.frozen
class HolmResult:
    """Holm-adjusted p-values and rejections keyed like the input; NaN p-values are left out."""

    adjusted: dict[str, float]
    reject: dict[str, bool]
    alpha: float


def holm_adjust(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values of the 1-D array ``p``, in input order."""
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def holm(p_values: Mapping[str, float], alpha: float = DEFAULT_FAMILY_ALPHA) -> HolmResult:
    """Holm's step-down correction over the finite p-values in ``p_values``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    keys = [k for k, p in p_values.items() if p is not None and math.isfinite(p)]
    for k in keys:
        if not 0.0 <= p_values[k] <= 1.0:
            raise ValueError(f"p-value for {k!r} must lie in [0, 1], got {p_values[k]!r}")
    adjusted = holm_adjust(np.array([p_values[k] for k in keys], dtype=float))
    return HolmResult(adjusted={k: float(a) for k, a in zip(keys, adjusted, strict=True)},
                      reject={k: bool(a < alpha) for k, a in zip(keys, adjusted, strict=True)},
                      alpha=alpha)


def family_wise(results: Sequence[ClaimResult], alpha: float = DEFAULT_FAMILY_ALPHA
                ) -> list[ClaimResult]:
    """The claims of one run, each placed in the run's family: Holm over their finite primary
    p-values at family-wise ``alpha`` (a claim placed before is placed anew)."""
    ids = [r.claim_id for r in results]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique, got {ids}")
    runs = sorted({r.run_id for r in results})
    if len(runs) > 1:
        raise ValueError(f"a family holds the claims of one run, got runs {runs}")
    adj = holm({r.claim_id: r.p_value for r in results}, alpha)
    return [attrs.evolve(r, family=FamilyWise(adjusted_p=adj.adjusted.get(r.claim_id, math.nan),
                                              alpha=alpha, size=len(adj.adjusted)))
            for r in results]
