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
from typing import Any

import attrs
import numpy as np
from torch import nn

from modes import registry
from modes.components.density.class_diagnostics import ClassDiagnostics
from modes.measures import (
    MEASURES,
    LayerMeasurement,
    NullMeasurement,
    SamplerSettings,
    measure_layer,
    measure_nulls,
)
from modes.scale import Scale, load_profile
from modes.store import ArtifactStore

PIPELINE_VERSION = "1"


class MissingComponentError(LookupError):
    """A claim needs a component this scenario does not have (the message says which)."""


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

    def components(self) -> dict[str, str]:
        return {"dataset": self.dataset, "backbone": self.backbone, "reducer": self.reducer,
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

    @property
    def max_rhat(self) -> float:
        """Worst split R-hat of the class mean log-density over classes."""
        return float(np.nanmax(self.diagnostics.rhat_mean))


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

    # -- data and networks -------------------------------------------------------------------
    @functools.cached_property
    def dataset(self) -> Any:
        from modes.data import load_dataset

        root = Path(self.config.data_root) if self.config.data_root else None
        return load_dataset(self.config.dataset, self.scale.data, root=root,
                            seed=self.config.seed, download=self.config.download)

    def backbone(self, name: str, width: float | None = None, stem: str | None = None) -> Any:
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
        return registry.create("backbone", name, num_classes=self.dataset.num_classes,
                               width=self.scale.train.width if width is None else width,
                               stem=stem or stem_for(self.dataset.image_size), **kwargs)

    def pretrained_file(self, name: str) -> str | None:
        """The pretrained weights file configured for backbone ``name``, or None."""
        return dict(self.config.pretrained).get(name)

    def train_scale(self, name: str) -> Any:
        """How backbone ``name`` is trained: fine-tuned (``transformer_finetune``) when it starts
        from pretrained weights, otherwise from scratch with the scale's ``train``."""
        if self.pretrained_file(name) is not None:
            return self.scale.transformer_finetune
        return self.scale.train

    def initialization(self, name: str) -> str:
        """How backbone ``name`` starts, for records: "pretrained weights from PATH (sha256 ...),
        fine-tuned" or "trained from scratch"."""
        from modes.components.backbones.pretrained import initialization

        return initialization(dict(getattr(self.architecture(name), "options", ())))

    @functools.cache  # noqa: B019 - one Scenario per session; caching per instance is intended
    def architecture(self, name: str) -> Any:
        """What backbone ``name`` is built as here: its BackboneSpec (architecture and
        initialisation settings, e.g. ``zero_init_residual`` or a pretrained file), or its name
        for a plug-in without one. Part of every stage's store request."""
        return getattr(self.backbone(name), "spec", name)

    @functools.cache  # noqa: B019 - one Scenario per session; caching per instance is intended
    def trained(self, name: str) -> tuple[Any, nn.Module]:
        from modes.training.fit import train_classifier

        backbone = self.backbone(name)
        model = train_classifier(backbone, self.dataset, self.train_scale(name),
                                 seed=self.config.seed, store=self.store,
                                 progress=False)  # progress: the store's log
        return backbone, model

    def _request(self, what: str, backbone: str, *scales: str, **extra: Any) -> dict[str, Any]:
        """Store request of one stage: the data and training it stands on, the scale sections
        named in ``scales`` (so changing one knob recomputes only the stages that use it)."""
        c = self.config
        return {"what": what, "pipeline": PIPELINE_VERSION, "backbone": backbone,
                "architecture": self.architecture(backbone),
                "dataset": c.dataset, "data_root": c.data_root, "seed": c.seed,
                "data": self.scale.data, "train": self.train_scale(backbone),
                "transformer": (self.scale.transformer_config, self.scale.transformer_blocks,
                                self.scale.transformer_width),
                **{name: getattr(self.scale, name) for name in scales},
                "components": {k: getattr(c, k) for k in ("reducer", "density", "memorization",
                                                          "mem_scores")},
                "versions": _component_versions(),
                **extra}

    def representations(self, name: str) -> dict[str, np.ndarray]:
        """Eq. 1 representations of every training image at every tapped layer."""
        from modes.components.taps import extract_representations

        def compute() -> dict[str, np.ndarray]:
            backbone, model = self.trained(name)
            return extract_representations(backbone, self.dataset.train_images, batch_size=256,
                                           model=model)

        return self.store.get_or_compute("representations", self._request("reps", name), compute)

    # -- density models ------------------------------------------------------------------------
    def density_model(self, seed_offset: int = 0) -> Any:
        d = self.scale.density
        return registry.create(
            "density", self.config.density, sweeps=d.sweeps, burn_in=d.burn_in, thin=d.thin,
            block_size=d.block_size, init_components=d.init_components, chains=d.chains,
            seed=self.config.seed + seed_offset, device=self.config.device, dtype=d.dtype,
            progress=False,
        )

    def sampler_settings(self) -> SamplerSettings:
        d = self.scale.density
        return SamplerSettings(sweeps=d.sweeps, burn_in=d.burn_in, thin=d.thin,
                               block_size=d.block_size, init_components=d.init_components,
                               chains=d.chains, dtype=d.dtype, folds=d.folds,
                               kl_samples=d.kl_samples, null_replicates=d.null_replicates)

    def layer_densities(self, name: str, measure: str = "checked",
                        nulls: bool = False) -> list[LayerDensities]:
        """Class-conditional density summaries for every tapped layer of backbone ``name``,
        measured as ``measure`` says (:data:`modes.measures.MEASURES`); with ``nulls``, also
        its matched nulls (fitted on first request: they matter only to a decision that
        replicates on the real classes)."""
        if measure not in MEASURES:
            raise ValueError(f"unknown measure {measure!r}; known: {sorted(MEASURES)}")
        reps = self.representations(name)
        layers = list(reps)
        return [self._layer_density(name, layer, i, len(layers), reps[layer], measure, nulls)
                for i, layer in enumerate(layers)]

    def _reduced(self, layer: str, index: int, num_layers: int,
                 x_full: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        dims = min(layer_dims(index, num_layers, self.scale), x_full.shape[1])
        reducer = registry.create("reducer", self.config.reducer, dims=dims).fit(x_full)
        return reducer.transform(x_full), np.cumsum(reducer.explained_variance_ratio), dims

    def _layer_density(self, name: str, layer: str, index: int, num_layers: int,
                       x_full: np.ndarray, measure: str, nulls: bool = False) -> LayerDensities:
        labels = self.dataset.train_labels.numpy()
        seed = self.config.seed + index

        def compute() -> dict[str, np.ndarray]:
            x, curve, dims = self._reduced(layer, index, num_layers, x_full)
            m = measure_layer(x, labels, MEASURES[measure], self.sampler_settings(), seed=seed,
                              device=self.config.device)
            return {**m.to_arrays(), "dims": np.array(dims), "variance_curve": curve}

        def compute_nulls() -> dict[str, np.ndarray]:
            x, _, _ = self._reduced(layer, index, num_layers, x_full)
            return measure_nulls(x, labels, MEASURES[measure], self.sampler_settings(),
                                 seed=seed, device=self.config.device).to_arrays()

        request = self._request("layer-density", name, "density", layer=layer,
                                measure=MEASURES[measure])
        out = self.store.get_or_compute("layer-density", request, compute)
        m = LayerMeasurement.from_arrays(out)
        classes = np.unique(labels)
        null = NullMeasurement(log_density=np.zeros((0, labels.size)),
                               relative_entropy=np.zeros((0, classes.size)),
                               mean_intra_distance=np.zeros((0, classes.size)))
        if nulls:
            null = NullMeasurement.from_arrays(self.store.get_or_compute(
                "layer-nulls", {**request, "what": "layer-nulls"}, compute_nulls))
        diagnostics = m.diagnostics
        if not MEASURES[measure].held_out:  # in-sample: is it far above the held-out density?
            held = self._layer_density(name, layer, index, num_layers, x_full, "checked")
            classes = diagnostics.classes
            held_mean = np.array([held.log_density[labels == c].mean() for c in classes])
            diagnostics = attrs.evolve(diagnostics, optimism=m.class_mean_in_sample - held_mean)
        return LayerDensities(
            layer=layer, dims=int(out["dims"]), measure=measure, log_density=m.log_density[0],
            relative_entropy=m.relative_entropy[0], mean_intra_distance=m.mean_intra_distance[0],
            variance_curve=out["variance_curve"], diagnostics=diagnostics,
            null_log_density=null.log_density, null_relative_entropy=null.relative_entropy,
            null_mean_intra_distance=null.mean_intra_distance)

    # -- memorization ----------------------------------------------------------------------------
    def memorization(self) -> np.ndarray:
        """Per-training-example memorization scores: published file or the configured estimator."""
        labels = self.dataset.train_labels.numpy()
        if self.config.memorization == "none":
            raise MissingComponentError(
                "no MemorizationEstimator and no published scores (--modes-memorization none); "
                "pass --modes-memorization subsampled, or --modes-memorization published "
                "--modes-mem-scores PATH")
        if self.config.memorization == "published" or self.config.mem_scores:
            if not self.config.mem_scores:
                raise MissingComponentError(
                    "--modes-memorization published needs --modes-mem-scores PATH (the authors' "
                    "mem_scores.npz or Feldman & Zhang's cifar100_infl_matrix.npz)")
            from modes.components.memorization.published import load_published

            return np.asarray(load_published(Path(self.config.mem_scores),
                                             expected_labels=labels).scores)
        m = self.scale.memorization

        def compute() -> dict[str, np.ndarray]:
            estimator = registry.create(
                "memorization", self.config.memorization, trials=m.trials,
                subset_ratio=m.subset_ratio, min_per_side=m.min_per_side, seed=self.config.seed,
                device=self.config.device)
            result = estimator.estimate(self.backbone_for_memorization, self.dataset,
                                        self.memorization_train_scale(), store=self.store)
            return {"scores": np.asarray(result.scores)}

        request = self._request("mem", self.config.backbone, "memorization")
        out = self.store.get_or_compute("memorization", request, compute)
        scores: np.ndarray = out["scores"]
        return scores

    def memorization_train_scale(self) -> Any:
        m = self.scale.memorization
        return attrs.evolve(self.scale.train, epochs=m.epochs, width=m.width)

    def backbone_for_memorization(self) -> Any:
        """A fresh, untrained backbone for memorization trials and density-bin models."""
        m = self.scale.memorization
        return self.backbone(self.config.backbone, width=m.width, stem=m.stem)

    # -- density bins (Fig. 3) -------------------------------------------------------------------
    def density_bins(self) -> Any:
        """The density-bin table: per-bin density, memorization, held-out F-score, certification."""
        from modes.experiments.density_bins import density_bin_experiment

        memorization = self.memorization()  # first: it does not wait on the trained backbone
        last = self.layer_densities(self.config.backbone)[-1]
        return density_bin_experiment(
            last.log_density, memorization, self.dataset, self.backbone_for_memorization,
            self.scale.robustness, self.memorization_train_scale(), seed=self.config.seed,
            store=self.store, device=self.config.device)

    # -- where classes are fit (Fig. 4, Fig. A.11) -----------------------------------------------
    def fitting_subsets(self) -> dict[str, np.ndarray]:
        """Indices of memorized (score above the threshold), typical (lowest scores) and random
        examples, of equal size, as in the paper's Fig. 4 experiment."""
        scores = self.memorization()
        rng = np.random.default_rng(self.config.seed + 17)
        memorized = np.flatnonzero(scores > self.scale.fitting.memorized_threshold)
        k = len(memorized)
        order = np.argsort(scores, kind="stable")
        typical = order[:k]
        rest = np.setdiff1d(np.arange(len(scores)), np.concatenate([memorized, typical]))
        random = rng.choice(rest, size=min(k, len(rest)), replace=False)
        return {"memorized": memorized, "typical": typical, "random": np.sort(random)}

    def subset_divergences(self, name: str) -> dict[str, np.ndarray]:
        """Between-class KL matrices (Eq. 4, both directions) per layer and subset.

        Only classes with at least ``min_class_representatives`` examples in every subset are
        kept. Returns ``kl`` of shape (layers, subsets, C', C') and the kept ``classes``.
        """
        reps = self.representations(name)
        layers = list(reps)
        labels = self.dataset.train_labels.numpy()
        subsets = self.fitting_subsets()
        need = self.scale.fitting.min_class_representatives
        counts = np.stack([np.bincount(labels[idx], minlength=self.dataset.num_classes)
                           for idx in subsets.values()])
        classes = np.flatnonzero((counts >= need).all(axis=0))

        def compute() -> dict[str, np.ndarray]:
            out = np.full((len(layers), len(subsets), len(classes), len(classes)), np.nan)
            if len(classes) < 2:
                return {"kl": out, "classes": classes}
            for li, layer in enumerate(layers):
                dims = min(layer_dims(li, len(layers), self.scale), reps[layer].shape[1])
                x_all = registry.create("reducer", self.config.reducer, dims=dims).fit(
                    reps[layer]).transform(reps[layer])
                xs, gs = [], []
                for si, idx in enumerate(subsets.values()):
                    keep = idx[np.isin(labels[idx], classes)]
                    xs.append(x_all[keep])
                    gs.append(si * self.dataset.num_classes + labels[keep])
                fitted = self.density_model(seed_offset=100 + li).fit(np.concatenate(xs),
                                                                      np.concatenate(gs))
                column = {int(g): i for i, g in enumerate(fitted.groups)}
                for si in range(len(subsets)):
                    ids = [column[si * self.dataset.num_classes + int(c)] for c in classes]
                    for a, ca in enumerate(classes):
                        row = fitted.kl_to_all(si * self.dataset.num_classes + int(ca),
                                               num_samples=self.scale.density.kl_samples)
                        out[li, si, a] = row[ids]
                    np.fill_diagonal(out[li, si], np.nan)
            return {"kl": out, "classes": classes}

        request = self._request("subset-kl", name, "density", "memorization", "fitting",
                                kl="shared-samples")
        return self.store.get_or_compute("subset-kl", request, compute)

    def generative_classification(self, name: str) -> dict[str, np.ndarray]:
        """Eq. A.7 generative classifier: fit class densities without the held-out subsets, then
        predict their classes at every layer (class priors: the fitted data's class frequencies).
        Returns predictions (layers, held-out), truth and the subsets' sizes."""
        reps = self.representations(name)
        layers = list(reps)
        labels = self.dataset.train_labels.numpy()
        scores = self.memorization()
        k = self.scale.fitting.classifier_holdout // 3
        rng = np.random.default_rng(self.config.seed + 29)
        order = np.argsort(-scores, kind="stable")
        memorized = order[:k]
        unmemorized = rng.permutation(np.setdiff1d(np.flatnonzero(scores <= 0.0), memorized))[:k]
        remaining = np.setdiff1d(np.arange(len(labels)), np.concatenate([memorized, unmemorized]))
        random = rng.choice(remaining, size=k, replace=False)
        held = {"memorized": memorized, "unmemorized": unmemorized, "random": random}
        held_all = np.concatenate(list(held.values()))
        train_idx = np.setdiff1d(np.arange(len(labels)), held_all)

        def compute() -> dict[str, np.ndarray]:
            preds = np.empty((len(layers), len(held_all)), dtype=np.int64)
            for li, layer in enumerate(layers):
                dims = min(layer_dims(li, len(layers), self.scale), reps[layer].shape[1])
                reducer = registry.create("reducer", self.config.reducer, dims=dims).fit(
                    reps[layer][train_idx])
                fitted = self.density_model(seed_offset=200 + li).fit(
                    reducer.transform(reps[layer][train_idx]), labels[train_idx])
                preds[li] = fitted.classify(reducer.transform(reps[layer][held_all]))
            sizes = np.array([len(v) for v in held.values()])
            return {"predictions": preds, "truth": labels[held_all], "subset_sizes": sizes}

        request = self._request("gen-clf", name, "density", "memorization", "fitting")
        return self.store.get_or_compute("generative-classifier", request, compute)


def _component_versions() -> dict[str, str]:
    """Versions of the components whose results the scenario caches, so that a new sampler or
    trainer recomputes the stages built on it."""
    from modes.components.density.model import CHECKPOINT_VERSION
    from modes.components.memorization.subsampled import VERSION as MEMORIZATION_VERSION
    from modes.experiments.density_bins import VERSION as DENSITY_BINS_VERSION
    from modes.training.fit import VERSION as TRAINING_VERSION

    return {"density": CHECKPOINT_VERSION, "memorization": MEMORIZATION_VERSION,
            "density_bins": DENSITY_BINS_VERSION, "training": TRAINING_VERSION}
