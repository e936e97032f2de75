"""The generative classifier of Eq. A.7 (paper Fig. A.11): class densities fitted without the
held-out examples predict their classes at every layer.

The scenario caches the result (:class:`modes.stage_keys.GenerativeKey`) and supplies the
held-out subsets (the authors' lists or :func:`modes.components.memorization.a11_heldout`), the
reducer and the density model; this module is the experiment alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np

from modes.components.density.readings import Reading
from modes.components.protocols import Reducer
from modes.measures import DensityMeasure, ModelFactory, classify_readings

HELDOUT_ORDER = ("most", "least", "random")


@attrs.frozen(eq=False)
class GenerativePredictions:
    """Predicted classes of the held-out examples, ``predictions`` (layers, H), their true
    classes ``truth`` (H,), and the held-out subsets' sizes ``subset_sizes`` (most, least,
    random; the examples are in that order)."""

    predictions: np.ndarray
    truth: np.ndarray
    subset_sizes: np.ndarray


@attrs.frozen(eq=False)
class GenerativeReadings:
    """Eq. A.7's predictions under every reading of one fit per layer: ``predictions[reading
    key]`` (layers, H), stored together so that a predictive or averaging variant re-reads the
    default run's fits (a density model without readings holds its one reading)."""

    predictions: dict[str, np.ndarray]
    truth: np.ndarray
    subset_sizes: np.ndarray

    def read(self, reading: Reading) -> GenerativePredictions:
        """The predictions under ``reading``; a reading the fits were not read with is a
        KeyError that names what they hold."""
        if reading.key not in self.predictions:
            raise KeyError(f"the Fig. A.11 artifact holds no reading {reading.key!r} (it holds "
                           f"{sorted(self.predictions)}: a density model without readings is "
                           f"read its one way only)")
        return GenerativePredictions(self.predictions[reading.key], self.truth,
                                     self.subset_sizes)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The store's layout: ``<reading key>/predictions``, ``truth``, ``subset_sizes``."""
        return {**{f"{key}/predictions": p for key, p in self.predictions.items()},
                "truth": self.truth, "subset_sizes": self.subset_sizes}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> GenerativeReadings:
        return cls(predictions={k.removesuffix("/predictions"): np.asarray(v)
                                for k, v in arrays.items() if k.endswith("/predictions")},
                   truth=np.asarray(arrays["truth"]),
                   subset_sizes=np.asarray(arrays["subset_sizes"]))


def heldout_indices(held: Mapping[str, np.ndarray]) -> np.ndarray:
    """The held-out examples, most then least then random memorized."""
    return np.concatenate([held[s] for s in HELDOUT_ORDER])


def generative_classification(reps: Mapping[str, np.ndarray], labels: np.ndarray,
                              held: Mapping[str, np.ndarray], dims: Sequence[int],
                              reducer: Callable[[int], Reducer], models: ModelFactory,
                              seeds: Sequence[int],
                              measure: DensityMeasure) -> GenerativeReadings:
    """Eq. A.7 on representations ``reps`` (layer -> (N, d_l), in layer order).

    Per layer ``l``: fit ``reducer(dims[l])`` and the class densities ``models(seeds[l])`` on
    every example but the held-out ones, then classify the held-out examples (class priors: the
    fitted data's class frequencies) under every reading of the fit
    (:func:`modes.measures.classify_readings`; a model without readings is stored as
    ``measure``'s reading)."""
    layers = list(reps)
    if not len(dims) == len(seeds) == len(layers):
        raise ValueError(f"generative_classification: {len(layers)} layers need as many dims "
                         f"and seeds, got {len(dims)} dims and {len(seeds)} seeds")
    held_all = heldout_indices(held)
    train_idx = np.setdiff1d(np.arange(len(labels)), held_all)
    preds: dict[str, np.ndarray] = {}
    for li, layer in enumerate(layers):
        fitted_reducer = reducer(dims[li]).fit(reps[layer][train_idx])
        fitted = models(seeds[li]).fit(fitted_reducer.transform(reps[layer][train_idx]),
                                       labels[train_idx])
        read = classify_readings(fitted, fitted_reducer.transform(reps[layer][held_all]),
                                 measure)
        for key, predicted in read.items():
            preds.setdefault(key, np.empty((len(layers), len(held_all)), dtype=np.int64))[
                li] = predicted
    sizes = np.array([len(held[s]) for s in HELDOUT_ORDER])
    return GenerativeReadings(predictions=preds, truth=labels[held_all], subset_sizes=sizes)
