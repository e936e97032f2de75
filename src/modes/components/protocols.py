"""Component interfaces. Every component of one kind satisfies one Protocol.

A third-party package adds a component by registering a factory under the entry-point group
``modes.components`` (see :mod:`modes.registry`); nothing here needs to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn


@runtime_checkable
class Backbone(Protocol):
    """A classifier network whose intermediate layers can be tapped.

    ``tap_nodes`` names the graph nodes (``torchvision.models.feature_extraction`` names) whose
    outputs form the representations of Eq. 1, shallow to deep; ``tap_kinds`` says how each is
    pooled ("gap": global average over spatial dims, "cls": the class token, "tokens": mean over
    tokens).
    """

    name: str
    num_classes: int

    def module(self) -> nn.Module: ...

    def tap_nodes(self) -> Sequence[str]: ...

    def tap_kinds(self) -> Sequence[str]: ...


@runtime_checkable
class FeatureTap(Protocol):
    """Maps a batch of images to one representation matrix per tapped layer (Eq. 1)."""

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]: ...


@runtime_checkable
class Reducer(Protocol):
    """Fits a linear dimensionality reduction to one layer's representations."""

    def fit(self, x: np.ndarray) -> FittedReducer: ...


@runtime_checkable
class FittedReducer(Protocol):
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class FittedDensity(Protocol):
    """A fitted class-conditional density model (one per group)."""

    def log_prob(self, x: Any, group: Any = ...) -> torch.Tensor: ...

    def sample(self, m: int, group: Any = ...) -> torch.Tensor: ...

    def relative_entropy(self, group: Any = ..., num_samples: int = ...) -> float: ...

    def kl(self, g_p: Any, g_q: Any, num_samples: int = ...) -> float: ...


@runtime_checkable
class DensityModel(Protocol):
    def fit(self, x: Any, groups: Any = None) -> FittedDensity: ...


@runtime_checkable
class MemorizationEstimator(Protocol):
    """Per-example memorization scores (Feldman & Zhang 2020) for a training set."""

    def estimate(self, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class Certifier(Protocol):
    """Certified robustness of a classifier at single inputs (Cohen et al. 2019)."""

    def certify(
        self, x: torch.Tensor, n0: int, n: int, alpha: float, batch_size: int
    ) -> tuple[int, float]: ...

    def predict(self, x: torch.Tensor, n: int, alpha: float, batch_size: int) -> int: ...
