"""The density-bin experiment of the paper's Fig. 3.

"We sorted the training examples according to their estimated class-conditional log-density and
then split this ordering into 50 equally sized bins. We then calculated for each bin the mean and
the standard deviation of memorization scores and class-conditional log-densities of examples
assigned to it. We also calculated the ratio of examples belonging to the low- and the high-density
classes. Finally, for each bin we trained a separate ResNet model without using the training
examples assigned to that bin. We then calculated the F-score of this model on the examples from
the bin." For robustness, each bin also gets a model trained with Gaussian input noise (sigma) on
the other bins, smoothed (Cohen et al. 2019) and CERTIFY-ed on examples of the bin.

The noise of both the noise training and CERTIFY is added in ``robustness.noise_space``
(:class:`~modes.components.certification.NoiseSpace`): ``"normalized"`` (default, the authors':
sigma in the network's normalised units, ``sigma * channel_std`` in pixels) or ``"pixel"`` (Cohen
et al.: sigma in [0, 1] pixels, certified through a :class:`PixelSpace` wrapper). Certified radii
are always in [0, 1] pixel units; the table names the space and the noise's pixel sd.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import torch
from torch import nn

from modes import registry
from modes.components.certification import NoiseSpace, PixelSpace
from modes.components.protocols import Certifier, CertifierFactory
from modes.metrics import macro_f_score
from modes.registry import Component
from modes.scale import RobustnessScale, TrainScale
from modes.seeds import stream
from modes.stats.split import largest_gap_split
from modes.store import ArtifactStore
from modes.training.ensemble import Ensemble, architecture_key, train_ensemble

VERSION = "3"  # 2: noise space setting, the noise's pixel sd; 3: the certifier in the key
KIND = "density-bins"
DEFAULT_CERTIFIER = "randomized-smoothing"
Trainer = Callable[..., Ensemble]  # signature of modes.training.ensemble.train_ensemble

__all__ = ["DensityBinSummary", "DensityBinTable", "PixelSpace", "bin_summary",
           "density_bin_experiment", "density_bins"]


@attrs.frozen(eq=False)
class DensityBinTable:
    """One row per density bin (ascending log-density); every field is an array of length B
    unless noted. Radius statistics are over the certified inputs on which CERTIFY did not
    abstain (NaN when it abstained on all), in [0, 1] pixel units whatever ``noise_space``."""

    bin_of: np.ndarray  # (N,) bin of every training example
    lower_edge: np.ndarray  # smallest log-density in the bin
    upper_edge: np.ndarray  # largest log-density in the bin
    count: np.ndarray
    log_density_mean: np.ndarray
    log_density_sd: np.ndarray
    memorization_mean: np.ndarray
    memorization_sd: np.ndarray
    low_fraction: np.ndarray  # fraction of the bin from low-density classes
    high_fraction: np.ndarray
    heldout_fscore: np.ndarray  # macro F-score of the model trained without the bin
    radius_mean: np.ndarray  # pixel units
    radius_sd: np.ndarray  # pixel units
    non_abstain_rate: np.ndarray
    smoothed_fscore: np.ndarray  # macro F-score of the smoothed classifier (abstain = wrong)
    certified_count: np.ndarray  # inputs certified per bin
    high_classes: np.ndarray  # (C,) bool, classes above the largest gap of class means
    class_threshold: float  # centre of the largest gap of sorted class-mean log-densities
    noise_space: str  # where the smoothing noise was added: "normalized" or "pixel"
    noise_pixel_sd: np.ndarray  # (channels,) the smoothing noise's sd in [0, 1] pixel units

    @property
    def bins(self) -> int:
        return len(self.count)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f.name: np.asarray(getattr(self, f.name)) for f in attrs.fields(DensityBinTable)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> DensityBinTable:
        values: dict[str, Any] = {f.name: arrays[f.name] for f in attrs.fields(cls)}
        values["class_threshold"] = float(values["class_threshold"])
        values["noise_space"] = str(values["noise_space"])
        return cls(**values)


def density_bins(log_density: np.ndarray, bins: int) -> list[np.ndarray]:
    """Example indices of ``bins`` equally sized bins (sizes differ by at most one) of the
    examples sorted by ascending log-density (ties broken by index)."""
    if bins < 1 or bins > len(log_density):
        raise ValueError(f"bins must lie in [1, {len(log_density)}], got {bins}")
    order = np.argsort(log_density, kind="stable")
    return [np.asarray(b, dtype=np.int64) for b in np.array_split(order, bins)]


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")


def _check_per_example(name: str, values: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} has shape {arr.shape} but the dataset has {n} training "
                         f"examples; one value per training example is needed")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(arr)))} non-finite values")
    return arr


@attrs.frozen(eq=False)
class DensityBinSummary:
    """The part of :class:`DensityBinTable` that needs no trained model: the bins of the
    density ordering, each bin's density, memorization and class mix. C5 reads only these, so a
    reading of the densities other than the default's (:mod:`modes.sensitivity`) re-bins the
    examples without retraining the bin models; the table's own columns are computed by the
    same function (:func:`bin_summary`)."""

    groups: list[np.ndarray]  # example indices per bin (ascending log-density)
    bin_of: np.ndarray
    lower_edge: np.ndarray
    upper_edge: np.ndarray
    count: np.ndarray
    log_density_mean: np.ndarray
    log_density_sd: np.ndarray
    memorization_mean: np.ndarray
    memorization_sd: np.ndarray
    low_fraction: np.ndarray
    high_fraction: np.ndarray
    high_classes: np.ndarray
    class_threshold: float

    @property
    def bins(self) -> int:
        return len(self.count)

    def arrays(self) -> dict[str, Any]:
        """Its :class:`DensityBinTable` fields (all but ``groups``)."""
        return {f.name: getattr(self, f.name) for f in attrs.fields(DensityBinSummary)
                if f.name != "groups"}


def bin_summary(log_density: np.ndarray, memorization: np.ndarray, labels: np.ndarray,
                num_classes: int, bins: int) -> DensityBinSummary:
    """Fig. 3's bins of the examples sorted by ``log_density`` (:func:`density_bins`) with each
    bin's mean and sd of log-density and memorization, and its fraction of examples from the
    low- and high-density classes (split at the largest gap of sorted class means)."""
    labels = np.asarray(labels).astype(np.int64)
    n = len(labels)
    log_density = _check_per_example("log_density", log_density, n)
    memorization = _check_per_example("memorization", memorization, n)
    groups = density_bins(log_density, bins)
    bin_of = np.empty(n, dtype=np.int64)
    for b, members in enumerate(groups):
        bin_of[members] = b
    class_sizes = np.bincount(labels, minlength=num_classes)
    present = class_sizes > 0
    class_means = np.bincount(labels, weights=log_density, minlength=num_classes)
    split = largest_gap_split(class_means[present] / class_sizes[present])
    high_classes = np.zeros(num_classes, dtype=bool)
    high_classes[np.flatnonzero(present)] = split.high
    high_example = high_classes[labels]
    return DensityBinSummary(
        groups=groups,
        bin_of=bin_of,
        lower_edge=np.array([log_density[g].min() for g in groups]),
        upper_edge=np.array([log_density[g].max() for g in groups]),
        count=np.array([len(g) for g in groups], dtype=np.int64),
        log_density_mean=np.array([log_density[g].mean() for g in groups]),
        log_density_sd=np.array([_sd(log_density[g]) for g in groups]),
        memorization_mean=np.array([memorization[g].mean() for g in groups]),
        memorization_sd=np.array([_sd(memorization[g]) for g in groups]),
        low_fraction=np.array([np.mean(~high_example[g]) for g in groups]),
        high_fraction=np.array([np.mean(high_example[g]) for g in groups]),
        high_classes=high_classes,
        class_threshold=split.threshold,
    )


def density_bin_experiment(log_density: np.ndarray, memorization: np.ndarray, data: Any,
                           backbone: Callable[[], Any], robustness: RobustnessScale,
                           train: TrainScale, seed: int = 0, store: ArtifactStore | None = None,
                           trainer: Trainer = train_ensemble, members_per_chunk: int = 8,
                           device: str = "cpu", progress: bool = False,
                           certifier: Component[Certifier] | None = None) -> DensityBinTable:
    """Fig. 3: per-bin density, memorization, class mix, held-out F-score and certification.

    ``log_density`` is each training example's class-conditional log-density (Eq. 3 under its
    own class's model), ``memorization`` its memorization score; ``backbone`` builds a fresh
    untrained backbone. Held-out and noise-trained models (``robustness.bin_epochs`` epochs,
    otherwise ``train``) are trained ``members_per_chunk`` bins at a time by ``trainer``.
    ``certifier`` is the registered certifier (default ``"randomized-smoothing"``); its name and
    version are part of the stored table's key.
    """
    if certifier is None:
        certifier = registry.component("certifier", DEFAULT_CERTIFIER)
    labels = data.train_labels.numpy().astype(np.int64)
    n = len(labels)
    log_density = _check_per_example("log_density", log_density, n)
    memorization = _check_per_example("memorization", memorization, n)
    if members_per_chunk < 1:
        raise ValueError(f"members_per_chunk must be >= 1, got {members_per_chunk}")

    def compute() -> dict[str, np.ndarray]:
        return _run(log_density, memorization, data, labels, backbone, robustness, train, seed,
                    trainer, members_per_chunk, device, progress, certifier.factory).arrays()

    if store is None:
        return DensityBinTable.from_arrays(compute())
    request = {
        "log_density": log_density, "memorization": memorization,
        "data": getattr(data, "fingerprint", None), "labels": labels,
        "robustness": robustness, "train": train, "seed": seed,
        "architecture": architecture_key(backbone, seed),
        "trainer": getattr(trainer, "__qualname__", type(trainer).__qualname__),
        "certifier": certifier.key(),
    }
    return DensityBinTable.from_arrays(store.get_or_compute(KIND, request, compute, VERSION))


def _train_without_bins(trainer: Trainer, backbone: Callable[[], Any], data: Any,
                        groups: list[np.ndarray], train: TrainScale, seeds: list[int],
                        members_per_chunk: int, device: str,
                        noise_std: float | tuple[float, ...] = 0.0) -> list[nn.Module]:
    """One model per bin, trained on every example outside that bin."""
    n = data.num_train
    models: list[nn.Module] = []
    for start in range(0, len(groups), members_per_chunk):
        chunk = groups[start:start + members_per_chunk]
        masks = np.ones((len(chunk), n), dtype=bool)
        for row, members in enumerate(chunk):
            masks[row, members] = False
        ensemble = trainer(lambda: backbone().module(), data.train_images, data.train_labels,
                           masks, train, seeds[start:start + len(chunk)], noise_std=noise_std,
                           device=device)
        models.extend(ensemble.member(k) for k in range(ensemble.size))
    return models


def _run(log_density: np.ndarray, memorization: np.ndarray, data: Any, labels: np.ndarray,
         backbone: Callable[[], Any], robustness: RobustnessScale, train: TrainScale, seed: int,
         trainer: Trainer, members_per_chunk: int, device: str,
         progress: bool, certifier: CertifierFactory) -> DensityBinTable:
    summary = bin_summary(log_density, memorization, labels, data.num_classes, robustness.bins)
    groups = summary.groups
    bin_train = attrs.evolve(train, epochs=robustness.bin_epochs)
    rng = stream(seed, "density-bin-trials").rng()
    seeds = [int(s) for s in rng.integers(2**31, size=2 * robustness.bins)]
    heldout = _train_without_bins(trainer, backbone, data, groups, bin_train,
                                  seeds[:robustness.bins], members_per_chunk, device)
    space = NoiseSpace(robustness.noise_space, robustness.sigma, data.channel_mean,
                       data.channel_std)
    noisy = _train_without_bins(trainer, backbone, data, groups, bin_train,
                                seeds[robustness.bins:], members_per_chunk, device,
                                space.training_noise_std)

    rows: dict[str, list[float]] = {k: [] for k in (
        "heldout_fscore", "radius_mean", "radius_sd", "non_abstain_rate", "smoothed_fscore",
        "certified_count")}
    for b, members in enumerate(groups):
        model = heldout[b].to(device)
        with torch.no_grad():
            predicted = model(data.train_images[members].to(device)).argmax(1).cpu().numpy()
        rows["heldout_fscore"].append(macro_f_score(labels[members], predicted))

        chosen = np.sort(rng.choice(members, size=min(robustness.certify_per_bin, len(members)),
                                    replace=False))
        certs = space.certify(noisy[b].to(device), data.train_images[chosen].to(device),
                              data.num_classes, robustness.n0, robustness.n, robustness.alpha,
                              batch_size=max(robustness.n0, 256), labels=labels[chosen],
                              seed=seeds[b], progress=progress, certifier=certifier)
        radii = certs.radii[~certs.abstained]
        rows["radius_mean"].append(float(radii.mean()) if radii.size else float("nan"))
        rows["radius_sd"].append(_sd(radii))
        rows["non_abstain_rate"].append(certs.non_abstain_rate)
        rows["smoothed_fscore"].append(macro_f_score(labels[chosen], certs.predictions))
        rows["certified_count"].append(float(len(chosen)))

    return DensityBinTable(
        **summary.arrays(),
        heldout_fscore=np.array(rows["heldout_fscore"]),
        radius_mean=np.array(rows["radius_mean"]),
        radius_sd=np.array(rows["radius_sd"]),
        non_abstain_rate=np.array(rows["non_abstain_rate"]),
        smoothed_fscore=np.array(rows["smoothed_fscore"]),
        certified_count=np.array(rows["certified_count"], dtype=np.int64),
        noise_space=space.name,
        noise_pixel_sd=np.asarray(space.pixel_noise_sd),
    )
