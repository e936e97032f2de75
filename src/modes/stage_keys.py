"""Typed cache keys of the scenario's stages: each names exactly the configs its stage depends
on, so changing one knob recomputes that stage and the stages built on it, and nothing else.

Data -> trained backbone -> representations (:class:`SourceKey`, :class:`RepresentationsKey`);
-> reduced and densities per layer (:class:`LayerDensityKey`, its matched nulls
:class:`LayerNullsKey`); memorization scores (:class:`MemorizationKey`); the Fig. 4 and A.11
experiments (:class:`SubsetKLKey`, :class:`GenerativeKey`). Components appear by
:class:`modes.registry.ComponentKey` (name, version, config): a new version of a component,
built-in or third-party, invalidates what it computed.
"""

from __future__ import annotations

import attrs

from modes.measures import DensityMeasure
from modes.registry import ComponentKey
from modes.scale import DataScale, TrainScale

PIPELINE_VERSION = "3"  # 2: typed stage keys; 3: named seed streams (modes.seeds)


@attrs.frozen
class SourceKey:
    """Where a network's representations come from: a representations file (by content), or
    the dataset and the trained backbone (architecture, training, trainer version)."""

    seed: int
    representations_sha256: str | None = None
    dataset: ComponentKey | None = None
    data_root: str | None = None
    data: DataScale | None = None
    backbone: ComponentKey | None = None
    architecture: object = None  # BackboneSpec, or the name of a plug-in backbone without one
    train: TrainScale | None = None
    transformer: tuple[str, int, int] | None = None
    training_version: str | None = None
    pipeline: str = PIPELINE_VERSION


@attrs.frozen
class RepresentationsKey:
    """Eq. 1 representations of every training image at every tapped layer, by ``tap`` (None:
    read from a representations file), as the later stages' keys name them. The representations
    themselves are stored once, by :func:`modes.components.taps.extract_representations` under
    :class:`modes.components.taps.RepresentationsRequest` (the trained weights' key, the tap,
    the nodes, the images), whoever asks for them.

    A layer's stages on a representations file name only what they read, ``stage_sha256``
    (:meth:`modes.data.representations_file.RepresentationsFile.stage_sha256`: the labels and
    that one stage), with a source that names no file: files that differ elsewhere share them."""

    source: SourceKey
    tap: ComponentKey | None = None
    stage_sha256: str | None = None


@attrs.frozen
class MeasurementSettings:
    """How fitted densities are read beyond the model: cross-fitting folds (held-out measures)
    and the Monte Carlo samples of Eq. 4."""

    folds: int
    kl_samples: int


@attrs.frozen
class LayerDensityKey:
    """One layer's class densities under one measurement: reduced by ``reducer`` to ``dims``,
    fitted by ``density``, read as ``measure`` and ``settings`` say."""

    representations: RepresentationsKey
    layer: str
    dims: int
    reducer: ComponentKey
    density: ComponentKey
    measure: DensityMeasure
    settings: MeasurementSettings


@attrs.frozen
class LayerNullsKey:
    """The matched nulls of one layer's measurement."""

    layer_density: LayerDensityKey
    replicates: int


@attrs.frozen
class TotalCorrelationKey:
    """Per-class total correlations of one layer's measurement (its real classes when
    ``replicates`` is 0, else its matched nulls): from the reduced data and, held out, the
    measurement's folds (seeded by ``seed``); no density is fitted, so no sampler knob is in it."""

    representations: RepresentationsKey
    layer: str
    dims: int
    reducer: ComponentKey
    held_out: bool
    folds: int
    seed: int
    replicates: int


@attrs.frozen
class MemorizationKey:
    """Per-example memorization scores: the estimator (with its config) on the data the
    backbone under test was trained on, each trial trained as ``train`` says from a fresh
    ``architecture``."""

    source: SourceKey
    estimator: ComponentKey
    train: TrainScale | None
    architecture: object = None


@attrs.frozen
class SubsetKLKey:
    """Fig. 4: between-class KL matrices within the memorization subsets, per layer."""

    representations: RepresentationsKey
    dims: tuple[int, ...]
    reducer: ComponentKey
    density: ComponentKey
    kl_samples: int
    subsets: str  # sha256 of the subsets' index lists


@attrs.frozen
class GenerativeKey:
    """Fig. A.11: the generative classifier's predictions of the held-out subsets."""

    representations: RepresentationsKey
    dims: tuple[int, ...]
    reducer: ComponentKey
    density: ComponentKey
    heldout: str  # sha256 of the held-out index lists
