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

from modes.components.protocols import Reducer
from modes.measures import ModelFactory


@attrs.frozen(eq=False)
class SubsetKL:
    """Fig. 4's between-class KL matrices: ``kl[s]`` of shape (layers, C_s, C_s) (NaN on the
    diagonal, and everywhere when a subset has fewer than two classes) among the classes
    ``classes[s]`` (C_s,) of subset ``s`` (most, least, random)."""

    kl: dict[str, np.ndarray]
    classes: dict[str, np.ndarray]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The store's layout: ``kl_<subset>`` and ``classes_<subset>``."""
        return {**{f"kl_{s}": m for s, m in self.kl.items()},
                **{f"classes_{s}": c for s, c in self.classes.items()}}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> SubsetKL:
        subsets = [k.removeprefix("kl_") for k in arrays if k.startswith("kl_")]
        return cls(kl={s: np.asarray(arrays[f"kl_{s}"]) for s in subsets},
                   classes={s: np.asarray(arrays[f"classes_{s}"]) for s in subsets})


def subset_classes(subsets: Mapping[str, Sequence[np.ndarray]],
                   labels: np.ndarray) -> dict[str, np.ndarray]:
    """Each subset's classes, in its lists' order (every list holds one class's examples)."""
    return {s: np.array([int(labels[idx[0]]) for idx in lists], dtype=np.int64)
            for s, lists in subsets.items()}


def subset_divergences(reps: Mapping[str, np.ndarray], labels: np.ndarray, num_classes: int,
                       subsets: Mapping[str, Sequence[np.ndarray]], dims: Sequence[int],
                       reducer: Callable[[int], Reducer], models: ModelFactory,
                       seeds: Sequence[int], kl_samples: int) -> SubsetKL:
    """Fig. 4 on representations ``reps`` (layer -> (N, d_l), in layer order).

    Per layer ``l``: reduce every example to ``dims[l]`` with ``reducer`` (fitted on all of
    them), fit one density per (subset, class) with ``models(seeds[l])`` (a class in two subsets
    is two groups), and read Eq. 4's KL divergence from each class to every other class of its
    subset with ``kl_samples`` Monte Carlo samples.
    """
    layers = list(reps)
    if not len(dims) == len(seeds) == len(layers):
        raise ValueError(f"subset_divergences: {len(layers)} layers need as many dims and "
                         f"seeds, got {len(dims)} dims and {len(seeds)} seeds")
    classes = subset_classes(subsets, labels)
    out = {s: np.full((len(layers), len(classes[s]), len(classes[s])), np.nan) for s in subsets}
    if min(len(c) for c in classes.values()) >= 2:
        for li, layer in enumerate(layers):
            x_all = reducer(dims[li]).fit(reps[layer]).transform(reps[layer])
            xs, gs = [], []
            for si, s in enumerate(subsets):
                for idx in subsets[s]:
                    xs.append(x_all[idx])
                    gs.append(si * num_classes + labels[idx])
            fitted = models(seeds[li]).fit(np.concatenate(xs), np.concatenate(gs))
            column = {int(g): i for i, g in enumerate(fitted.groups)}
            for si, s in enumerate(subsets):
                ids = [column[si * num_classes + int(c)] for c in classes[s]]
                for a, ca in enumerate(classes[s]):
                    row = fitted.kl_to_all(si * num_classes + int(ca), kl_samples)
                    out[s][li, a] = row[ids]
                np.fill_diagonal(out[s][li], np.nan)
    return SubsetKL(kl=out, classes=classes)
