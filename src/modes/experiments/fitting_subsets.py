"""Where classes are fit (paper Fig. 4): between-class KL divergences (Eq. 4, both directions)
per layer, within each memorization subset, among that subset's own classes.

The scenario caches the result (:class:`modes.stage_keys.SubsetKLKey`) and supplies the subsets
(the authors' split files or :func:`modes.components.memorization.fig4_split`), the reducer and
the density model; this module is the experiment alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np

from modes.components.density.readings import READINGS, Reading
from modes.components.protocols import Reducer
from modes.measures import DensityMeasure, ModelFactory, kl_to_all_readings


@attrs.frozen(eq=False)
class SubsetKL:
    """Fig. 4's between-class KL matrices: ``kl[s]`` of shape (layers, C_s, C_s) (NaN on the
    diagonal, and everywhere when a subset has fewer than two classes) among the classes
    ``classes[s]`` (C_s,) of subset ``s`` (most, least, random)."""

    kl: dict[str, np.ndarray]
    classes: dict[str, np.ndarray]


@attrs.frozen(eq=False)
class SubsetKLReadings:
    """Fig. 4's KL matrices under every reading of one fit: ``kl[reading key][s]`` (as
    :attr:`SubsetKL.kl`), stored together so that a predictive or averaging variant re-reads
    the default run's fit (a density model without readings holds its one reading)."""

    kl: dict[str, dict[str, np.ndarray]]
    classes: dict[str, np.ndarray]

    def read(self, reading: Reading) -> SubsetKL:
        """The KL matrices under ``reading``; a reading the fit was not read with is a KeyError
        that names what it holds."""
        if reading.key not in self.kl:
            raise KeyError(f"the Fig. 4 artifact holds no reading {reading.key!r} (it holds "
                           f"{sorted(self.kl)}: a density model without readings is read its "
                           f"one way only)")
        return SubsetKL(kl=self.kl[reading.key], classes=self.classes)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The store's layout: ``<reading key>/kl_<subset>`` and ``classes_<subset>``."""
        return {**{f"{key}/kl_{s}": m for key, by_subset in self.kl.items()
                   for s, m in by_subset.items()},
                **{f"classes_{s}": c for s, c in self.classes.items()}}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> SubsetKLReadings:
        kl: dict[str, dict[str, np.ndarray]] = {}
        for name in arrays:
            if "/kl_" in name:
                key, subset = name.split("/kl_", 1)
                kl.setdefault(key, {})[subset] = np.asarray(arrays[name])
        return cls(kl=kl, classes={k.removeprefix("classes_"): np.asarray(v)
                                   for k, v in arrays.items() if k.startswith("classes_")})


def subset_classes(subsets: Mapping[str, Sequence[np.ndarray]],
                   labels: np.ndarray) -> dict[str, np.ndarray]:
    """Each subset's classes, in its lists' order (every list holds one class's examples)."""
    return {s: np.array([int(labels[idx[0]]) for idx in lists], dtype=np.int64)
            for s, lists in subsets.items()}


def subset_divergences(reps: Mapping[str, np.ndarray], labels: np.ndarray, num_classes: int,
                       subsets: Mapping[str, Sequence[np.ndarray]], dims: Sequence[int],
                       reducer: Callable[[int], Reducer], models: ModelFactory,
                       seeds: Sequence[int], kl_samples: int,
                       measure: DensityMeasure) -> SubsetKLReadings:
    """Fig. 4 on representations ``reps`` (layer -> (N, d_l), in layer order).

    Per layer ``l``: reduce every example to ``dims[l]`` with ``reducer`` (fitted on all of
    them), fit one density per (subset, class) with ``models(seeds[l])`` (a class in two subsets
    is two groups), and read Eq. 4's KL divergence from each class to every other class of its
    subset (only those: a third of the KLs to every group) with ``kl_samples`` Monte Carlo
    samples, under every reading of the fit (:func:`modes.measures.kl_to_all_readings`; a model
    without readings is stored as ``measure``'s reading).
    """
    layers = list(reps)
    if not len(dims) == len(seeds) == len(layers):
        raise ValueError(f"subset_divergences: {len(layers)} layers need as many dims and "
                         f"seeds, got {len(dims)} dims and {len(seeds)} seeds")
    classes = subset_classes(subsets, labels)
    shape = {s: (len(layers), len(classes[s]), len(classes[s])) for s in subsets}
    out: dict[str, dict[str, np.ndarray]] = {}
    if min(len(c) for c in classes.values()) < 2:  # no KL: every reading undefined
        return SubsetKLReadings(kl={r.key: {s: np.full(shape[s], np.nan) for s in subsets}
                                    for r in READINGS}, classes=classes)
    for li, layer in enumerate(layers):
        x_all = reducer(dims[li]).fit(reps[layer]).transform(reps[layer])
        xs, gs = [], []
        for si, s in enumerate(subsets):
            for idx in subsets[s]:
                xs.append(x_all[idx])
                gs.append(si * num_classes + labels[idx])
        fitted = models(seeds[li]).fit(np.concatenate(xs), np.concatenate(gs))
        for si, s in enumerate(subsets):
            ids = [si * num_classes + int(c) for c in classes[s]]
            for a, ca in enumerate(classes[s]):
                rows = kl_to_all_readings(fitted, si * num_classes + int(ca), kl_samples,
                                          measure, targets=ids)
                for key, row in rows.items():
                    out.setdefault(key, {}).setdefault(s, np.full(shape[s], np.nan))[li, a] = row
            for by_subset in out.values():
                np.fill_diagonal(by_subset[s][li], np.nan)
    return SubsetKLReadings(kl=out, classes=classes)
