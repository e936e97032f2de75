"""One run's composition of components, with every stage cached in the artifact store.

A :class:`Scenario` answers the questions claims ask — "the class-conditional log-density of every
training example at every stage of the trained ResNet", "the memorization scores", "the density-bin
table" — computing each answer once per (request, component version) and loading it afterwards.
Everything is lazy: a claim pays only for the stages it uses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import numpy as np
import torch
from torch import nn

from modes import registry
from modes.components.density.class_diagnostics import ClassDiagnostics, with_sampling_floor
from modes.components.protocols import (
    Backbone,
    Certifier,
    DensityContext,
    DensityModel,
    MemorizationContext,
    MemorizationEstimator,
    MemorizationInput,
    MissingComponentError,
    Reducer,
)
from modes.measures import (
    MEASURES,
    PAPER_POOLED,
    DensityMeasure,
    LayerMeasurement,
    ModelFactory,
    NullMeasurement,
    SamplerSettings,
    class_total_correlations,
    measure_layer_readings,
    measure_nulls_readings,
    null_fit_seed,
    null_worlds,
    reading_arrays,
    readings_to_arrays,
)
from modes.registry import Component, ComponentKey
from modes.scale import Scale, TrainScale, load_profile
from modes.seeds import StreamName, stream
from modes.stage_keys import (
    PIPELINE_VERSION,
    GenerativeKey,
    LayerDensityKey,
    LayerNullsKey,
    MeasurementSettings,
    MemorizationKey,
    RepresentationsKey,
    SourceKey,
    SubsetKLKey,
    TotalCorrelationKey,
)
from modes.store import ArtifactStore

if TYPE_CHECKING:
    from modes.components.backbones.base import BackboneSpec
    from modes.components.memorization.authors_files import AuthorsFiles
    from modes.data.dataset import ImageDataset
    from modes.data.representations_file import RepresentationsFile
    from modes.data.streaming import NormalisedImages
    from modes.experiments.density_bins import DensityBinSummary, DensityBinTable
    from modes.experiments.fitting_subsets import SubsetKL
    from modes.experiments.generative import GenerativePredictions

__all__ = ["PIPELINE_VERSION", "MissingComponentError", "Scenario", "ScenarioConfig"]


@attrs.frozen(eq=False)
class FileData:
    """The data of a scenario that reads a representations file: its labels, and no images (asking
    for them is a :class:`MissingComponentError` that says so)."""

    name: str
    num_classes: int
    train_labels: torch.Tensor  # int64 (n,), as an ImageDataset's

    def _missing(self, what: str) -> MissingComponentError:
        return MissingComponentError(
            f"{what}: the scenario reads representations from {self.name}, which holds "
            f"labels and representations, not images (run without --modes-representations)")

    @property
    def num_train(self) -> int:
        return int(self.train_labels.numel())

    @property
    def train_images(self) -> NormalisedImages:
        raise self._missing("training images")

    @property
    def test_images(self) -> NormalisedImages:
        raise self._missing("test images")

    @property
    def test_labels(self) -> torch.Tensor:
        raise self._missing("test labels")

    @property
    def image_size(self) -> int:
        raise self._missing("images (a backbone to train)")


TRANSFORMERS = ("vit", "mixer")


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, dict) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def parse_pretrained(text: str | None) -> tuple[tuple[str, str], ...]:
    """``"vit=PATH,mixer=PATH"`` -> ``(("mixer", PATH), ("vit", PATH))``; a bad item is an error
    that names it."""
    pairs = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"--modes-pretrained takes NAME=PATH items, got {item!r}")
        pairs.append((name.strip(), path.strip()))
    return _pairs(pairs)


@attrs.frozen
class ScenarioConfig:
    """Which components and data a run uses (all names are registry names). ``scale`` names a
    shipped profile and ``overrides`` change its knobs (``"density.sweeps=100"``,
    :func:`modes.scale.load_profile`)."""

    scale: str = "smoke"
    overrides: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    dataset: str = "synthetic"
    backbone: str = "resnet18"
    control_backbone: str = "plain_cnn"
    transformers: tuple[str, ...] = ("vit", "mixer")
    tap: str = "graph"
    reducer: str = "svd"
    density: str = "dpgmm"
    memorization: str = "subsampled"
    mem_scores: str | None = None
    certifier: str = "randomized-smoothing"
    data_root: str | None = None
    download: bool = False
    seed: int = 0
    device: str = "cpu"
    # backbone name -> local pretrained weights file (the appendix's ImageNet-pretrained ViT-B/16
    # and Mixer-B/16); a backbone not named here is trained from scratch
    pretrained: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)
    # a representations file (modes.data.representations_file) used in place of the dataset,
    # training and taps: the backbone's representations are read from it
    representations: str | None = None
    # the authors' files/ folder (issue 11): published scores, Fig. 4 splits and Fig. A.11
    # held-out lists for this backbone and dataset
    authors_files: str | None = None
    # analytic choices where the paper's text and the authors' code differ (issue 11, item 7;
    # modes.sensitivity); None keeps the default: the measure's predictive and its own state
    # averaging, the reducer's centring (the paper's: none), the sampler's block update
    # ("metropolis"). predictive and averaging re-read the default run's chains (no refit)
    predictive: str | None = None
    averaging: str | None = None
    svd_centre: bool | None = None
    block_update: str | None = None

    def components(self) -> dict[str, str]:
        return {"dataset": self.dataset, "backbone": self.backbone, "tap": self.tap,
                "reducer": self.reducer,
                "density": self.density, "memorization": self.memorization,
                "certifier": self.certifier}


@attrs.frozen(eq=False)
class LayerDensities:
    """One layer's class-conditional densities under one measurement (:mod:`modes.measures`),
    with the same numbers for its matched-null replicates and the per-class diagnostics."""

    layer: str
    dims: int
    measure: str
    log_density: np.ndarray  # (N,) Eq. 3 log p(x | own class) for every training example
    relative_entropy: np.ndarray  # (C,) Eq. 4 against the max-entropy diagonal Gaussian
    mean_intra_distance: np.ndarray  # (C,) mean pairwise distance after SVD
    variance_curve: np.ndarray  # cumulative explained-variance ratio of the SVD (Fig. A.6)
    diagnostics: ClassDiagnostics
    null_log_density: np.ndarray  # (R, N) the same for the matched nulls (R = 0: not fitted)
    null_relative_entropy: np.ndarray  # (R, C)
    null_mean_intra_distance: np.ndarray  # (R, C)
    # (C,) total correlation of each class's covariance, on the points Eq. 4's q is built from
    # (modes.measures.total_correlation); Eq. 4 minus it is the class's non-Gaussianity (C4)
    total_correlation: np.ndarray
    null_total_correlation: np.ndarray  # (R, C)

    @property
    def null_replicates(self) -> int:
        return int(self.null_log_density.shape[0])

    def log_density_of(self, replicate: int | None) -> np.ndarray:
        """The real classes' log-densities (``None``) or those of matched-null ``replicate``."""
        return self.log_density if replicate is None else self.null_log_density[replicate]

    def relative_entropy_of(self, replicate: int | None) -> np.ndarray:
        return (self.relative_entropy if replicate is None
                else self.null_relative_entropy[replicate])

    def mean_intra_distance_of(self, replicate: int | None) -> np.ndarray:
        return (self.mean_intra_distance if replicate is None
                else self.null_mean_intra_distance[replicate])

    def total_correlation_of(self, replicate: int | None) -> np.ndarray:
        return (self.total_correlation if replicate is None
                else self.null_total_correlation[replicate])

    @property
    def max_rhat(self) -> float:
        """Worst split R-hat of the class mean log-density over classes."""
        return float(np.nanmax(self.diagnostics.rhat_mean))


# analytic choices (modes.sensitivity) that are knobs of the scale profile, not config fields
PROFILE_CHOICES = {"noise_space": "robustness.noise_space"}


LayerPart = Literal["all", "shallow", "deep", "last"]
"""Which of a backbone's tapped layers a claim reads: the first ``L // 2`` are shallow (C2), the
others deep (C1, C1s), the last one C4's (and Fig. 3's)."""


def layer_part(num_layers: int, part: LayerPart) -> range:
    """The indices of ``part`` (:data:`LayerPart`) of ``num_layers`` tapped layers."""
    half = num_layers // 2
    parts = {"all": range(num_layers), "shallow": range(half),
             "deep": range(half, num_layers), "last": range(num_layers - 1, num_layers)}
    try:
        return parts[part]
    except KeyError:
        raise ValueError(f"unknown layer part {part!r}; known: {sorted(parts)}") from None


def layer_dims(index: int, num_layers: int, scale: Scale) -> int:
    """SVD dims per tapped layer: shallow dims for the first half of the layers, deep for the rest
    (ResNets: 16 for stages 1-2 and 64 for stages 3-4 at paper scale)."""
    return scale.density.dims_shallow if index < num_layers / 2 else scale.density.dims_deep


class Scenario:
    """Lazily built, store-backed pipeline for one :class:`ScenarioConfig`."""

    def __init__(self, config: ScenarioConfig, store: ArtifactStore) -> None:
        self.config = config
        self.store = store
        self.scale: Scale = load_profile(config.scale, config.overrides)

    def seed(self, name: StreamName, *index: int) -> int:
        """The int seed of stream ``name`` (:mod:`modes.seeds`) of this run's seed: every
        stage's seed, and what its cache key holds."""
        return stream(self.config.seed, name, *index).int_seed()

    def variant(self, **changes: Any) -> Scenario:
        """The same run with some :class:`ScenarioConfig` fields changed (an analytic choice of
        :mod:`modes.sensitivity`), sharing the store: stages the change does not touch are
        loaded, not recomputed, and those it touches are cached under their own request. A
        choice that is a profile knob (:data:`PROFILE_CHOICES`: ``noise_space``) is added to the
        config's overrides (``robustness.noise_space=pixel``)."""
        from modes.scale import canonical_overrides

        knobs = [f"{PROFILE_CHOICES[k]}={changes.pop(k)}" for k in list(changes)
                 if k in PROFILE_CHOICES]
        config = attrs.evolve(self.config, **changes)
        if knobs:
            config = attrs.evolve(config, overrides=canonical_overrides(
                config.scale, (*config.overrides, *knobs)))
        return Scenario(config, self.store)

    # -- data and networks -------------------------------------------------------------------
    @functools.cached_property
    def given(self) -> RepresentationsFile | None:
        """The representations file (``--modes-representations``), loaded and checked once; None
        when the scenario computes representations from data, training and taps."""
        if self.config.representations is None:
            return None
        from modes.data.representations_file import load_representations

        return load_representations(self.config.representations)

    @functools.cached_property
    def dataset(self) -> ImageDataset | FileData:
        """The dataset; with a representations file, its labels only (:class:`FileData`)."""
        from modes.data import load_dataset

        if self.given is not None:
            return FileData(name=self.given.path, num_classes=self.given.num_classes,
                            train_labels=torch.from_numpy(self.given.labels))
        root = Path(self.config.data_root) if self.config.data_root else None
        return load_dataset(self.config.dataset, self.scale.data, root=root,
                            seed=self.seed("dataset"), download=self.config.download)

    def backbone(self, name: str, width: float | None = None,
                 stem: str | None = None) -> Backbone:
        """Backbone ``name`` at this scale (transformers get the scale's config and size)."""
        from modes.components.backbones import stem_for

        kwargs: dict[str, Any] = {}
        if name in TRANSFORMERS:  # sized by the scale's transformer knobs, not the CNN width
            width = 1.0
            kwargs = {"config": self.scale.transformer_config}
            if self.scale.transformer_config != "b16":
                kwargs |= {"blocks": self.scale.transformer_blocks,
                           "hidden": self.scale.transformer_width}
        if (path := self.pretrained_file(name)) is not None:
            kwargs["pretrained"] = path
        built: Backbone = registry.create(
            "backbone", name, num_classes=self.dataset.num_classes,
            width=self.scale.train.width if width is None else width,
            stem=stem or stem_for(self.dataset.image_size), **kwargs)
        return built

    def seeded_backbone(self, name: str) -> Backbone:
        """Backbone ``name`` built under the run's training seed, as :meth:`trained` trains it.

        A backbone without a BackboneSpec (a third-party one) is trained from a copy of the
        weights it is built with, so they must not depend on what drew from torch's global
        generator before (a built-in one is rebuilt from its spec under the seed anyway). The
        memorization trials and density-bin models build theirs under their own seeds.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed("training"))
            return self.backbone(name)

    def pretrained_file(self, name: str) -> str | None:
        """The pretrained weights file configured for backbone ``name``, or None."""
        return dict(self.config.pretrained).get(name)

    def train_scale(self, name: str) -> TrainScale:
        """How backbone ``name`` is trained: fine-tuned (``transformer_finetune``) when it starts
        from pretrained weights; a transformer without them from scratch with
        ``transformer_scratch`` where the profile sets it; otherwise the scale's ``train``."""
        if self.pretrained_file(name) is not None:
            return self.scale.transformer_finetune
        if name in self.config.transformers and self.scale.transformer_scratch is not None:
            return self.scale.transformer_scratch
        return self.scale.train

    def initialization(self, name: str) -> str:
        """How backbone ``name`` starts, for records: "pretrained weights from PATH (sha256 ...),
        fine-tuned" or "trained from scratch"."""
        from modes.components.backbones.pretrained import initialization

        return initialization(dict(getattr(self.architecture(name), "options", ())))

    @functools.cache  # noqa: B019 - one Scenario per session; caching per instance is intended
    def architecture(self, name: str) -> BackboneSpec | str:
        """What backbone ``name`` is built as here: its BackboneSpec (architecture and
        initialisation settings, e.g. ``zero_init_residual`` or a pretrained file), or its name
        for a plug-in without one. Part of every stage's store request."""
        spec: BackboneSpec | str = getattr(self.backbone(name), "spec", name)
        return spec

    @functools.cache  # noqa: B019 - one Scenario per session; caching per instance is intended
    def trained(self, name: str) -> tuple[Backbone, nn.Module]:
        from modes.training.fit import train_classifier

        backbone = self.seeded_backbone(name)
        model = train_classifier(backbone, self.images(), self.train_scale(name),
                                 seed=self.seed("training"), store=self.store,
                                 progress=False)  # progress: the store's log
        return backbone, model

    def images(self) -> ImageDataset:
        """The image dataset (a representations file has none: MissingComponentError)."""
        data = self.dataset
        if isinstance(data, FileData):
            raise data._missing("images (a backbone to train)")
        return data

    def source_key(self, backbone: str) -> SourceKey:
        """What backbone ``backbone``'s representations stand on: the representations file by
        content, or the data and the training."""
        from modes.training.fit import VERSION as TRAINING_VERSION

        c = self.config
        if self.given is not None:  # the file (by content) stands in for data and training
            return SourceKey(seed=c.seed, representations_sha256=self.given.sha256)
        return SourceKey(
            seed=c.seed, dataset=self.dataset_key(), data_root=c.data_root, data=self.scale.data,
            backbone=registry.component("backbone", backbone).key(),
            architecture=self.architecture(backbone),
            train=self.train_scale(backbone),
            transformer=(self.scale.transformer_config, self.scale.transformer_blocks,
                         self.scale.transformer_width) if backbone in TRANSFORMERS else None,
            training_version=TRAINING_VERSION)

    def dataset_key(self) -> ComponentKey:
        return registry.component("dataset", self.config.dataset).key()

    def representations_key(self, name: str) -> RepresentationsKey:
        if self.given is not None:  # the file's representations: no tap
            return RepresentationsKey(self.source_key(name))
        return RepresentationsKey(self.source_key(name),
                                  registry.component("tap", self.config.tap).key())

    def layer_representations_key(self, name: str, layer: str) -> RepresentationsKey:
        """What layer ``layer`` of backbone ``name`` stands on in its stages' keys: the
        representations, or on a representations file only the labels and that stage (by
        content), so that files differing elsewhere share the layer's fits."""
        if self.given is not None:
            return RepresentationsKey(SourceKey(seed=self.config.seed),
                                      stage_sha256=self.given.stage_sha256(layer))
        return self.representations_key(name)

    def _choices(self) -> dict[str, object]:
        """The analytic choices set away from their defaults (their stages' keys hold them in
        the reducer's and the density model's configs)."""
        c = self.config
        return {k: v for k, v in (("svd_centre", c.svd_centre), ("block_update", c.block_update))
                if v is not None}

    def representations(self, name: str) -> dict[str, np.ndarray]:
        """Eq. 1 representations of every training image at every tapped layer; with a
        representations file, the file's stages (taken as those of ``--modes-backbone``)."""
        from modes.components.taps import extract_representations
        from modes.training.fit import train_key

        if self.given is not None:
            if name != self.config.backbone:
                raise MissingComponentError(
                    f"{name}'s representations: the representations file {self.given.path} "
                    f"holds one network's (taken as the backbone under test, "
                    f"{self.config.backbone}); {name} would need data and training")
            return self.given.representations()
        # stored by the tap module under its one request shape (taps.RepresentationsRequest):
        # the trained weights' key, the tap, the nodes and the images
        backbone, data = self.seeded_backbone(name), self.images()
        return extract_representations(
            backbone, data.train_images, batch_size=256, model=lambda: self.trained(name)[1],
            store=self.store, tap=self.config.tap,
            model_key=train_key(backbone, data, self.train_scale(name), self.seed("training")))

    def components(self) -> dict[str, str]:
        """The components this run's records name; a representations file by its path and
        sha256, in place of the dataset, backbone and certifier it stands for."""
        out = self.config.components()
        if self.given is None:
            return out
        for key in ("dataset", "backbone", "tap", "certifier"):
            del out[key]
        c = self.config
        mem = ("none" if c.memorization == "none"
               else "file" if self.given.memorization is not None
               else "published" if c.mem_scores else "none")
        return {**out, "memorization": mem, "representations": self.given.path,
                "representations_sha256": self.given.sha256}

    def run_key(self) -> str:
        """The run's key in the expected verdicts (:mod:`modes.expected`): a representations
        file is its own run, named by its sha256, whose claims are all expected to replicate."""
        from modes.expected import run_key

        c = self.config
        if self.given is None:
            return run_key(c.scale, c.dataset, c.backbone, c.seed, c.overrides)
        return run_key(c.scale, f"representations-{self.given.sha256[:12]}", "file", c.seed,
                       c.overrides)

    # -- density models ------------------------------------------------------------------------
    @property
    def density_component(self) -> Component[DensityModel]:
        """The configured density model (``--modes-density``), a registry component."""
        return registry.component("density", self.config.density)

    def density_context(self, measure: DensityMeasure, seed: int) -> DensityContext:
        return DensityContext(density=self.scale.density, measure=measure, seed=seed,
                              device=self.config.device, block_update=self.config.block_update)

    def component_config(self, component: Component[Any], context: object) -> object:
        """The config ``component`` runs with: configured from the run's ``context``
        (:meth:`modes.registry.Component.settings`), then this run's settings of it
        (``--modes-set component.KIND.NAME.FIELD=VALUE``, :mod:`modes.component_settings`)."""
        from modes.component_settings import apply_settings

        return apply_settings(component, component.settings(context), self.config.overrides)

    def density_key(self, measure: DensityMeasure, seed: int) -> ComponentKey:
        """The density model's part of a cache key: name, version and its own config."""
        component = self.density_component
        return component.key(self.component_config(component,
                                                   self.density_context(measure, seed)))

    def density_models(self, measure: DensityMeasure) -> ModelFactory:
        """``seed -> DensityModel``: the configured density model, configured for ``measure``
        (only through its own config: :meth:`modes.registry.Component.settings`)."""
        component = self.density_component

        def build(seed: int) -> DensityModel:
            return component.build(self.component_config(component,
                                                         self.density_context(measure, seed)))

        return build

    def sampler_settings(self) -> SamplerSettings:
        d = self.scale.density
        extra = {} if self.config.block_update is None else {
            "block_update": self.config.block_update}
        return SamplerSettings(sweeps=d.sweeps, burn_in=d.burn_in, thin=d.thin,
                               block_size=d.block_size, init_components=d.init_components,
                               chains=d.chains, dtype=d.dtype, folds=d.folds,
                               kl_samples=d.kl_samples, null_replicates=d.null_replicates,
                               split_merge=d.split_merge,
                               **extra)

    def measure(self, name: str) -> DensityMeasure:
        """Measurement ``name`` (:data:`modes.measures.MEASURES`), read through the configured
        predictive variant and state averaging when they are set."""
        if name not in MEASURES:
            raise ValueError(f"unknown measure {name!r}; known: {sorted(MEASURES)}")
        return self.read_as(MEASURES[name])

    def read_as(self, m: DensityMeasure) -> DensityMeasure:
        """``m`` read through the configured predictive variant and state averaging (when set):
        its fit (:attr:`DensityMeasure.fit`) is unchanged, its reading is this scenario's."""
        if self.config.predictive is not None:
            m = attrs.evolve(m, predictive=self.config.predictive)
        if self.config.averaging is not None:
            m = attrs.evolve(m, averaging=self.config.averaging)
        return m

    def reducer(self, dims: int) -> Reducer:
        """The configured reducer with ``dims`` components (and the configured SVD centring)."""
        extra = {} if self.config.svd_centre is None else {"centre": self.config.svd_centre}
        built: Reducer = registry.create("reducer", self.config.reducer, dims=dims, **extra)
        return built

    def reducer_key(self, dims: int) -> ComponentKey:
        """The reducer's part of a cache key (the reducer itself is its config: attrs)."""
        component = registry.component("reducer", self.config.reducer)
        reducer = self.reducer(dims)
        return component.key(reducer if attrs.has(type(reducer)) else None)

    def layer_densities(self, name: str, measure: str = "checked", nulls: bool = False,
                        part: LayerPart = "all") -> list[LayerDensities]:
        """Class-conditional density summaries for the tapped layers of backbone ``name`` that
        ``part`` names (:func:`layer_part`), measured as ``measure`` says
        (:data:`modes.measures.MEASURES`); with ``nulls``, also their matched nulls (fitted on
        first request: they matter only to a decision that replicates on the real classes, and
        only at the layers it reads: each layer's nulls cost ``null_replicates`` fits)."""
        if measure not in MEASURES:
            raise ValueError(f"unknown measure {measure!r}; known: {sorted(MEASURES)}")
        reps = self.representations(name)
        layers = list(reps)
        return [self._layer_density(name, layers[i], i, len(layers), reps[layers[i]], measure,
                                    nulls) for i in layer_part(len(layers), part)]

    def _reduced(self, layer: str, index: int, num_layers: int,
                 x_full: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        dims = min(layer_dims(index, num_layers, self.scale), x_full.shape[1])
        reducer = self.reducer(dims).fit(x_full)
        x = reducer.transform(x_full)  # fewer than dims columns past the data's rank
        return x, np.cumsum(reducer.explained_variance_ratio), x.shape[1]

    def _layer_density(self, name: str, layer: str, index: int, num_layers: int,
                       x_full: np.ndarray, measure: str, nulls: bool = False) -> LayerDensities:
        labels = self.dataset.train_labels.numpy()
        seed = self.seed("layer-density", index)
        how = self.measure(measure)
        models = self.density_models(how.fit)  # one fit for every reading

        # one fit per (layer, measure, refitting choices), read with every reading of
        # modes.measures.READINGS and stored together: a predictive or averaging variant of the
        # scenario loads the default run's artifact and picks its own reading
        def compute() -> dict[str, np.ndarray]:
            x, curve, dims = self._reduced(layer, index, num_layers, x_full)
            m = measure_layer_readings(x, labels, how.fit, self.sampler_settings(), seed=seed,
                                       device=self.config.device, models=models)
            return {**readings_to_arrays(m), "dims": np.array(dims), "variance_curve": curve}

        def compute_nulls() -> dict[str, np.ndarray]:
            x, _, _ = self._reduced(layer, index, num_layers, x_full)
            return readings_to_arrays(measure_nulls_readings(
                x, labels, how.fit, self.sampler_settings(), seed=seed,
                device=self.config.device, models=models))

        d = self.scale.density
        dims = min(layer_dims(index, num_layers, self.scale), x_full.shape[1])
        request = LayerDensityKey(
            representations=self.layer_representations_key(name, layer), layer=layer, dims=dims,
            reducer=self.reducer_key(dims), density=self.density_key(how.fit, seed),
            measure=how.fit, settings=MeasurementSettings(folds=d.folds, kl_samples=d.kl_samples))
        out = self.store.get_or_compute("layer-density", request, compute)
        m = LayerMeasurement.from_arrays(reading_arrays(out, how.reading))
        classes = np.unique(labels)
        null = NullMeasurement(log_density=np.zeros((0, labels.size)),
                               relative_entropy=np.zeros((0, classes.size)),
                               mean_intra_distance=np.zeros((0, classes.size)))
        if nulls:
            null = NullMeasurement.from_arrays(reading_arrays(self.store.get_or_compute(
                "layer-nulls", LayerNullsKey(request, d.null_replicates), compute_nulls),
                how.reading))

        # total correlations: from the reduced data and the measurement's folds, no fit; an
        # artifact of their own, so that stored fits stay valid (nulls: the fitted null worlds,
        # whose folds are seeded null_fit_seed(seed) as in measure_nulls_readings)
        def compute_tc(replicates: int) -> dict[str, np.ndarray]:
            x, _, _ = self._reduced(layer, index, num_layers, x_full)
            if not replicates:
                worlds, at = x[None], seed
            else:
                worlds, at = null_worlds(x, labels, replicates, seed), null_fit_seed(seed)
            return {"total_correlation": class_total_correlations(
                worlds, labels, how.fit, self.sampler_settings(), at)}

        def tc_key(replicates: int) -> TotalCorrelationKey:
            return TotalCorrelationKey(
                representations=request.representations, layer=layer, dims=dims,
                reducer=request.reducer, held_out=how.held_out, folds=d.folds, seed=seed,
                replicates=replicates)

        tc = self.store.get_or_compute("layer-total-correlation", tc_key(0),
                                       lambda: compute_tc(0))["total_correlation"][0]
        null_tc = np.zeros((0, classes.size))
        if nulls:
            null_tc = self.store.get_or_compute(
                "layer-total-correlation", tc_key(d.null_replicates),
                lambda: compute_tc(d.null_replicates))["total_correlation"]
        diagnostics = with_sampling_floor(m.diagnostics, m.log_density[0], labels)
        if not how.held_out:  # in-sample: is it far above the held-out density?
            held = self._layer_density(name, layer, index, num_layers, x_full, "checked")
            classes = diagnostics.classes
            held_mean = np.array([held.log_density[labels == c].mean() for c in classes])
            diagnostics = attrs.evolve(diagnostics, optimism=m.class_mean_in_sample - held_mean)
        return LayerDensities(
            layer=layer, dims=int(out["dims"]), measure=measure, log_density=m.log_density[0],
            relative_entropy=m.relative_entropy[0], mean_intra_distance=m.mean_intra_distance[0],
            variance_curve=out["variance_curve"], diagnostics=diagnostics,
            null_log_density=null.log_density, null_relative_entropy=null.relative_entropy,
            null_mean_intra_distance=null.mean_intra_distance, total_correlation=tc,
            null_total_correlation=null_tc)

    # -- memorization ----------------------------------------------------------------------------
    def memorization(self) -> np.ndarray:
        """Per-training-example memorization scores: the representations file's, a published
        file or the configured estimator."""
        labels = self.dataset.train_labels.numpy()
        if self.config.memorization == "none":
            raise MissingComponentError(
                "no MemorizationEstimator and no published scores (--modes-memorization none); "
                "pass --modes-memorization subsampled, or --modes-memorization published "
                "--modes-mem-scores PATH")
        if self.given is not None and self.given.memorization is not None:
            return self.given.memorization
        if self.authors is not None and self.authors.scores is not None:
            published = self.authors.scores
            if not np.array_equal(np.asarray(published.labels), labels):
                raise ValueError(f"{self.config.authors_files}: the published scores' labels "
                                 f"differ from the {self.config.dataset} training labels")
            return np.asarray(published.scores)
        if self.given is not None and not self.config.mem_scores:
            raise MissingComponentError(
                f"memorization scores: the representations file {self.given.path} has no "
                f"'memorization' array and no --modes-mem-scores file was given (the estimator "
                f"needs images and training)")
        component = self.memorization_component
        config = self.component_config(component, MemorizationContext(
            memorization=self.scale.memorization, seed=self.seed("memorization"),
            device=self.config.device, mem_scores=self.config.mem_scores))
        estimator: MemorizationEstimator = component.build(config)

        def compute() -> dict[str, np.ndarray]:
            result = estimator.scores(MemorizationInput(
                backbone=self.backbone_for_memorization, data=self.dataset,
                train=self.memorization_train_scale(), store=self.store))
            if not np.array_equal(np.asarray(result.labels), labels):
                raise ValueError(f"memorization {self.config.memorization!r}: its scores' "
                                 f"labels differ from the training labels")
            return {"scores": np.asarray(result.scores, dtype=np.float64)}

        c = self.config
        trains = not isinstance(self.dataset, FileData)  # an estimator may train on images
        request = MemorizationKey(
            source=SourceKey(seed=c.seed, representations_sha256=self.given.sha256)
            if self.given is not None else
            SourceKey(seed=c.seed, dataset=self.dataset_key(), data_root=c.data_root,
                      data=self.scale.data),
            estimator=component.key(config),
            train=self.memorization_train_scale() if trains else None,
            architecture=getattr(self.backbone_for_memorization(), "spec", c.backbone)
            if trains else None)
        out = self.store.get_or_compute("memorization", request, compute)
        scores: np.ndarray = out["scores"]
        return scores

    @property
    def memorization_component(self) -> Component[MemorizationEstimator]:
        """The memorization estimator: ``--modes-memorization``, or ``published`` when a scores
        file is given (``--modes-mem-scores``)."""
        name = "published" if self.config.mem_scores else self.config.memorization
        return registry.component("memorization", name)

    def memorization_train_scale(self) -> TrainScale:
        m = self.scale.memorization
        return attrs.evolve(self.scale.train, epochs=m.epochs, width=m.width)

    def backbone_for_memorization(self) -> Backbone:
        """A fresh, untrained backbone for memorization trials and density-bin models."""
        m = self.scale.memorization
        return self.backbone(self.config.backbone, width=m.width, stem=m.stem)

    # -- density bins (Fig. 3) -------------------------------------------------------------------
    def density_bins(self) -> DensityBinTable:
        """The density-bin table: per-bin density, memorization, held-out F-score, certification."""
        from modes.experiments.density_bins import density_bin_experiment

        log_density, memorization = self._bin_inputs()
        certifier: Component[Certifier] = registry.component("certifier", self.config.certifier)
        return density_bin_experiment(
            log_density, memorization, self.images(), self.backbone_for_memorization,
            self.scale.robustness, self.memorization_train_scale(),
            seed=self.seed("density-bins"), certifier=certifier,
            store=self.store, device=self.config.device)

    def density_bin_summary(self) -> DensityBinSummary:
        """The density-bin table's columns that need no trained model (bins, their density,
        memorization and class mix: all C5 reads), from the same inputs as
        :meth:`density_bins`: a reading of the densities other than the default's re-bins the
        examples here without retraining the bin models (the memorization scores are loaded)."""
        from modes.experiments.density_bins import bin_summary

        log_density, memorization = self._bin_inputs()
        labels = self.dataset.train_labels.numpy()
        return bin_summary(log_density, memorization, labels, self.dataset.num_classes,
                           self.scale.robustness.bins)

    def _bin_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """What Fig. 3 bins: the last stage's log-densities (checked measurement, this
        scenario's reading) and the memorization scores."""
        if self.given is not None:
            raise MissingComponentError(
                f"images to train the density-bin models on: the scenario reads representations "
                f"from {self.given.path}, which holds no images")
        memorization = self.memorization()  # first: it does not wait on the trained backbone
        last = self.layer_densities(self.config.backbone, part="last")[0]
        return last.log_density, memorization

    # -- where classes are fit (Fig. 4, Fig. A.11) -----------------------------------------------
    @functools.cached_property
    def authors(self) -> AuthorsFiles | None:
        """The authors' files for this backbone and dataset (``--modes-authors-files``), loaded and
        checked against the training labels once; None without the option."""
        if self.config.authors_files is None:
            return None
        from modes.components.memorization.authors_files import (
            ARCHS,
            list_classes,
            load_authors_files,
        )

        arch, dataset = self.config.backbone, AUTHORS_DATASETS.get(self.config.dataset)
        if arch not in ARCHS or dataset is None:
            raise ValueError(
                f"--modes-authors-files {self.config.authors_files}: the authors published files "
                f"for backbones {list(ARCHS)} on datasets {sorted(AUTHORS_DATASETS)}, not "
                f"{self.config.backbone} on {self.config.dataset}")
        labels = self.dataset.train_labels.numpy()
        # the files index this training set (published scores of another size are an error)
        files = load_authors_files(self.config.authors_files, arch, dataset,
                                   train_size=labels.size)
        for subset, lists in files.fig4.items():
            list_classes(lists, labels, f"{self.config.authors_files}: Fig. 4 subset "
                                        f"{subset!r}")
        return files

    def fitting_subsets(self) -> dict[str, list[np.ndarray]]:
        """The Fig. 4 subsets, ``{"most", "least", "random"}`` -> one index array per class of
        the subset's own class set: the authors' split files with ``--modes-authors-files``, else
        the rule that produced them (:func:`modes.components.memorization.fig4_split`, settings in
        ``scale.fitting``) applied to this scenario's scores."""
        from modes.components.memorization.fig4_subsets import fig4_split

        if self.authors is not None:
            return {s: list(v) for s, v in self.authors.fig4.items()}
        f = self.scale.fitting
        return fig4_split(self.memorization(), self.dataset.train_labels.numpy(),
                          most_from=f.memorized_from, least_below=f.typical_below,
                          per_class_min=f.per_class_min, per_class_cap=f.per_class_cap,
                          rng=stream(self.config.seed, "fitting-subsets").rng())

    def heldout_subsets(self) -> dict[str, np.ndarray]:
        """The Fig. A.11 held-out examples, ``{"most", "least", "random"}`` -> indices: the
        authors' lists with ``--modes-authors-files``, else
        :func:`modes.components.memorization.a11_heldout` on this scenario's scores."""
        from modes.components.memorization.fig4_subsets import a11_heldout

        if self.authors is not None:
            return dict(self.authors.a11)
        return a11_heldout(self.memorization(), self.scale.fitting.heldout_per_subset,
                           stream(self.config.seed, "heldout-subsets").rng())

    def _dims(self, reps: dict[str, np.ndarray]) -> tuple[int, ...]:
        """The reduced dims of every layer of ``reps``."""
        return tuple(min(layer_dims(i, len(reps), self.scale), x.shape[1])
                     for i, x in enumerate(reps.values()))

    def subset_divergences(self, name: str) -> SubsetKL:
        """Fig. 4's between-class KL matrices (Eq. 4, both directions) per layer within each
        subset of :meth:`fitting_subsets`, among that subset's own classes
        (:func:`modes.experiments.fitting_subsets.subset_divergences`), cached."""
        from modes.experiments.fitting_subsets import SubsetKLReadings, subset_divergences

        reps = self.representations(name)
        subsets = self.fitting_subsets()
        dims = self._dims(reps)

        # one fit per layer, its KLs read with every reading of modes.measures.READINGS and
        # stored together ("<reading>/kl_<subset>"): a predictive or averaging variant of the
        # scenario loads the default run's artifact and picks its own reading
        def compute() -> dict[str, np.ndarray]:
            return subset_divergences(
                reps, self.dataset.train_labels.numpy(), self.dataset.num_classes, subsets,
                dims, self.reducer, self.density_models(PAPER_POOLED),
                [self.seed("subset-divergences", li) for li in range(len(reps))],
                self.scale.density.kl_samples, PAPER_POOLED).to_arrays()

        request = SubsetKLKey(
            representations=self.representations_key(name), dims=dims,
            reducer=self.reducer_key(dims[-1]),
            density=self.density_key(PAPER_POOLED, self.seed("subset-divergences")),
            kl_samples=self.scale.density.kl_samples, subsets=_digest(subsets))
        stored = self.store.get_or_compute("subset-kl", request, compute, READINGS_VERSION)
        return SubsetKLReadings.from_arrays(stored).read(self.read_as(PAPER_POOLED).reading)

    def generative_classification(self, name: str) -> GenerativePredictions:
        """Eq. A.7's generative classifier of the held-out subsets of :meth:`heldout_subsets`
        at every layer (:func:`modes.experiments.generative.generative_classification`),
        cached with every reading and read with this scenario's."""
        from modes.experiments.generative import (
            GenerativeReadings,
            generative_classification,
            heldout_indices,
        )

        reps = self.representations(name)
        held = self.heldout_subsets()
        dims = self._dims(reps)

        # one fit per layer, its predictions read with every reading and stored together
        # ("<reading>/predictions"), as subset_divergences' KLs
        def compute() -> dict[str, np.ndarray]:
            return generative_classification(
                reps, self.dataset.train_labels.numpy(), held, dims, self.reducer,
                self.density_models(PAPER_POOLED),
                [self.seed("generative-classification", li) for li in range(len(reps))],
                PAPER_POOLED).to_arrays()

        request = GenerativeKey(
            representations=self.representations_key(name), dims=dims,
            reducer=self.reducer_key(dims[-1]),
            density=self.density_key(PAPER_POOLED, self.seed("generative-classification")),
            heldout=_digest({"held": [heldout_indices(held)]}))
        stored = self.store.get_or_compute("generative-classifier", request, compute,
                                           READINGS_VERSION)
        return GenerativeReadings.from_arrays(stored).read(self.read_as(PAPER_POOLED).reading)


READINGS_VERSION = "2"
"""Version of the Fig. 4 and A.11 artifacts (subset-kl, generative-classifier): 2, every
reading of the fit stored together (``"<reading>/kl_<subset>"``, ``"<reading>/predictions"``)."""

# the authors' dataset folder names (files/dkls/<arch>/<dataset>) for this project's datasets
AUTHORS_DATASETS = {"cifar100": "cifar100", "mini-imagenet": "mini_imagenet"}


def _digest(subsets: dict[str, list[np.ndarray]]) -> str:
    """sha256 of the subsets' index lists: the store request names the split it was run on."""
    import hashlib

    h = hashlib.sha256()
    for s in sorted(subsets):
        h.update(s.encode())
        for idx in subsets[s]:
            h.update(np.asarray(idx, dtype=np.int64).tobytes() + b"|")
    return h.hexdigest()
