"""Component interfaces: what the pipeline calls on every component of one kind, and no more.

A third-party package adds a component by registering it under the entry-point group
``modes.components`` (see :mod:`modes.registry`); nothing here needs to change. What each kind's
registered factory takes:

==============  ===========================================================================
kind            factory
==============  ===========================================================================
backbone        ``factory(num_classes=, width=, stem=, **options) -> Backbone``
dataset         ``factory(scale, root=, seed=, download=) -> ImageDataset``
tap             ``factory(backbone, model) -> FeatureTap`` (``model``: the trained network)
reducer         ``factory(config) -> Reducer``; the scenario creates it with ``dims=`` (and the
                SVD's ``centre=`` when that analytic choice is set)
density         ``factory(config) -> DensityModel``; ``configure(DensityContext) -> config``
memorization    ``factory(config) -> MemorizationEstimator``;
                ``configure(MemorizationContext) -> config``
certifier       ``factory(base_model, num_classes, sigma, seed) -> Certifier`` (its settings
                are the profile's ``robustness`` section)
==============  ===========================================================================

The scikit-learn shape where it fits: ``fit`` returns a fitted object (``Reducer.fit`` ->
:class:`FittedReducer` with ``transform``; ``DensityModel.fit`` -> :class:`FittedDensity` with
``log_prob_own``), so e.g. ``sklearn.decomposition.PCA`` followed by a per-class
``sklearn.mixture.BayesianGaussianMixture`` is a density model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs
import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from modes.components.certification.smoothing import Certificates
    from modes.components.memorization.scores import MemorizationScores
    from modes.data.streaming import Images
    from modes.measures import DensityMeasure
    from modes.scale import DensityScale, MemorizationScale, TrainScale
    from modes.store import ArtifactStore


class MissingComponentError(LookupError):
    """A claim needs a component this scenario does not have (the message says which)."""


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


TapFactory = Callable[[Backbone, nn.Module], FeatureTap]
"""``(backbone, model) -> FeatureTap``: the tap kind's factory."""


@runtime_checkable
class FittedReducer(Protocol):
    """A fitted linear reduction: ``transform`` and the variance ratio of every direction."""

    @property
    def explained_variance_ratio(self) -> np.ndarray: ...

    def transform(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Reducer(Protocol):
    """Fits a linear dimensionality reduction to one layer's representations."""

    def fit(self, x: np.ndarray) -> FittedReducer: ...


@attrs.frozen
class DensityContext:
    """What a density model's configuration may read: the profile's ``density`` section, the
    measurement (:data:`modes.measures.MEASURES`: in-sample or held-out, and the DP-GMM's prior
    and Eq. 3 reading), the stage's seed and the torch device. ``block_update`` is the sampler's
    analytic choice (:mod:`modes.sensitivity`; None: the default)."""

    density: DensityScale
    measure: DensityMeasure
    seed: int
    device: str = "cpu"
    block_update: str | None = None


@attrs.frozen(eq=False)
class StateLogDensities:
    """Per-state log-densities of points under their own group, for convergence checks
    (:mod:`modes.components.density.class_diagnostics`): ``states`` (T, m), kept state ``t`` of
    chain ``t % chains``. A point estimate has one state and one chain (nothing to check)."""

    states: np.ndarray
    chains: int

    def __attrs_post_init__(self) -> None:
        if self.states.ndim != 2 or self.chains < 1 or self.states.shape[0] % self.chains:
            raise ValueError(f"states must be (T, m) with T a multiple of chains "
                             f"({self.chains}), got shape {self.states.shape}")


@runtime_checkable
class FittedDensity(Protocol):
    """One fitted class-conditional density per group (group ids in :attr:`groups`).

    ``log_prob_own`` is Eq. 3 for each point under its own group; ``relative_entropy`` Eq. 4
    against the group's max-entropy diagonal Gaussian; ``kl_to_all`` Eq. 4 from one group to
    every group (aligned with :attr:`groups`); ``classify`` Eq. A.7 with the fitted groups'
    frequencies as priors (returns group ids); ``collapsed_fraction`` per group the fraction of
    points in degenerate components (zeros for a model without such components).
    """

    @property
    def groups(self) -> np.ndarray: ...

    def log_prob_own(self, x: np.ndarray, groups: np.ndarray) -> np.ndarray: ...

    def state_log_prob_own(self, x: np.ndarray, groups: np.ndarray) -> StateLogDensities: ...

    def collapsed_fraction(self) -> np.ndarray: ...

    def relative_entropy(self, group: int, num_samples: int, seed: int) -> float: ...

    def kl_to_all(self, group: int, num_samples: int, seed: int | None = None) -> np.ndarray: ...

    def classify(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class DensityModel(Protocol):
    """Fits one density per group of ``x`` (m, d) with integer ``groups`` (m,)."""

    def fit(self, x: np.ndarray, groups: np.ndarray) -> FittedDensity: ...


class TrainingData(Protocol):
    """What memorization estimators and the density-bin experiment read of a dataset."""

    @property
    def num_classes(self) -> int: ...

    @property
    def num_train(self) -> int: ...

    @property
    def train_images(self) -> Images: ...  # normalised per batch (modes.data.streaming)

    @property
    def train_labels(self) -> torch.Tensor: ...


@attrs.frozen
class MemorizationContext:
    """What a memorization estimator's configuration may read: the profile's ``memorization``
    section, the run's seed and device, and the published scores file (``--modes-mem-scores``)."""

    memorization: MemorizationScale
    seed: int
    device: str = "cpu"
    mem_scores: str | None = None


@attrs.frozen(eq=False)
class MemorizationInput:
    """What an estimator is given: a factory of fresh untrained backbones, the data, how each
    trial is trained, and the store for partial results."""

    backbone: Callable[[], Backbone]
    data: TrainingData
    train: TrainScale
    store: ArtifactStore | None = None


@runtime_checkable
class MemorizationEstimator(Protocol):
    """Per-example memorization scores (Feldman & Zhang 2020) of a training set, in its order."""

    def scores(self, given: MemorizationInput) -> MemorizationScores: ...


@runtime_checkable
class Certifier(Protocol):
    """A smoothed classifier (Cohen et al. 2019) built around a base network: CERTIFY every input
    of a set, each certificate wrong with probability at most ``alpha``."""

    def certify_dataset(self, images: torch.Tensor, n0: int, n: int, alpha: float,
                        batch_size: int, *, labels: np.ndarray | None = None,
                        progress: bool = False) -> Certificates: ...


CertifierFactory = Callable[[nn.Module, int, float, int], Certifier]
"""``(base_model, num_classes, sigma, seed) -> Certifier``: the certifier kind's factory."""
