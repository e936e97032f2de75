"""Readings of one fitted DP-GMM: Eq. 3's predictive variant x the averaging over kept states.

Every variant is read from the same kept states, so the sensitivity table's predictive and
averaging choices (:mod:`modes.sensitivity`) re-read the default run's chains instead of running
the sampler again. A density model that can be read several ways implements
:class:`ReadableDensity`; any other model is read its one way through the plain
:class:`modes.components.protocols.FittedDensity` methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol, runtime_checkable

import attrs
import numpy as np

from .fitted import AVERAGINGS, PREDICTIVES


@attrs.frozen
class Reading:
    """How kept chain states are read into Eq. 3: a predictive variant and a state averaging."""

    predictive: str = attrs.field(validator=attrs.validators.in_(PREDICTIVES))
    averaging: str = attrs.field(validator=attrs.validators.in_(AVERAGINGS))

    @property
    def key(self) -> str:
        """``"occupied.density"``: the prefix of this reading's arrays in a stored artifact."""
        return f"{self.predictive}.{self.averaging}"


READINGS: Final = tuple(Reading(p, a) for p in PREDICTIVES for a in AVERAGINGS)


@attrs.frozen(eq=False)
class Readout:
    """One reading of a fitted model: Eq. 3 at the given points under their own groups, and
    Eq. 4 of the requested groups."""

    log_density: np.ndarray  # (m,)
    relative_entropy: np.ndarray  # (len(rel_groups),)


@runtime_checkable
class ReadableDensity(Protocol):
    """A fitted density that can be read several ways from one fit (the DP-GMM)."""

    def read_all(self, x: np.ndarray, groups: np.ndarray, readings: Sequence[Reading],
                 rel_groups: Sequence[int], kl_samples: int,
                 seeds: Sequence[int]) -> dict[str, Readout]:
        """Each reading (keyed by :attr:`Reading.key`) of ``x`` under ``groups`` and of Eq. 4
        for ``rel_groups`` (seeded ``seeds``)."""
        ...


@runtime_checkable
class ReadableComparisons(Protocol):
    """A fitted density whose between-group quantities can be read several ways from one fit
    (the DP-GMM): Eq. 4 between groups (Fig. 4) and Eq. A.7 (Fig. A.11) per reading."""

    def read_kl_to_all(self, group: int, readings: Sequence[Reading], num_samples: int,
                       seed: int | None = None,
                       targets: Sequence[int] | None = None) -> dict[str, np.ndarray]:
        """Per reading (keyed by :attr:`Reading.key`): Eq. 4 from ``group`` to every fitted
        group (aligned with the fitted groups) or to ``targets`` (in their order)."""
        ...

    def read_classify(self, x: np.ndarray, readings: Sequence[Reading]) -> dict[str, np.ndarray]:
        """Per reading (keyed by :attr:`Reading.key`): Eq. A.7's group of every row of ``x``."""
        ...


def by_predictive(readings: Sequence[Reading]) -> dict[str, list[str]]:
    """The readings' averagings per predictive variant (per-state densities and Eq. 4's draws
    depend on the variant only, so each variant is computed once and averaged both ways)."""
    out: dict[str, list[str]] = {}
    for r in readings:
        out.setdefault(r.predictive, []).append(r.averaging)
    return out
