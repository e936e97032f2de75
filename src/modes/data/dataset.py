"""The in-memory image dataset every loader returns, and the helpers loaders share.

Images are held as raw uint8 pixels ``(N, 3, H, W)`` (one byte per value: the raw size) and read
through :class:`~modes.data.streaming.NormalisedImages` views (``train_images``, ``test_images``)
that normalise each batch per channel with the *training* mean and standard deviation (kept on the
dataset so pixel-space quantities, e.g. smoothing noise, can be converted). Labels are int64.
``train_meta`` holds per-image / per-class annotations as numpy arrays (numeric or fixed-width
unicode, so they can be stored in a pickle-free ``.npz``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs
import numpy as np
import torch

from modes import registry
from modes.data.streaming import NormalisedImages, channel_statistics, check_pixels
from modes.scale import DataScale

DATA_ENV_VAR = "MODES_DATA"


def _content_hash(self: ImageDataset) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(self.name.encode())
    for t in (self.train_pixels, self.train_labels, self.test_pixels, self.test_labels):
        h.update(np.ascontiguousarray(t.numpy()).tobytes())
    h.update(repr((self.channel_mean, self.channel_std)).encode())
    return h.hexdigest()


def _statistics(self: ImageDataset) -> tuple[tuple[float, float, float],
                                             tuple[float, float, float]]:
    check_pixels(self.train_pixels, "train_pixels")  # named, before the defaults read them
    return channel_statistics(self.train_pixels)


def _mean(self: ImageDataset) -> tuple[float, float, float]:
    return _statistics(self)[0]


def _std(self: ImageDataset) -> tuple[float, float, float]:
    return _statistics(self)[1]


@attrs.frozen(eq=False)
class ImageDataset:
    """A labelled train/test split held in memory as uint8 pixels, read normalised per batch.

    ``channel_mean`` / ``channel_std`` (``[0, 1]`` pixel units) default to the training pixels'
    (:func:`~modes.data.streaming.channel_statistics`).
    """

    name: str
    num_classes: int
    train_pixels: torch.Tensor
    train_labels: torch.Tensor
    test_pixels: torch.Tensor
    test_labels: torch.Tensor
    train_meta: dict[str, np.ndarray] = attrs.field(factory=dict)
    test_meta: dict[str, np.ndarray] = attrs.field(factory=dict)
    channel_mean: tuple[float, float, float] = attrs.field(
        default=attrs.Factory(_mean, takes_self=True))
    channel_std: tuple[float, float, float] = attrs.field(
        default=attrs.Factory(_std, takes_self=True))
    fingerprint: str = attrs.field(
        default=attrs.Factory(_content_hash, takes_self=True)
    )

    def __attrs_post_init__(self) -> None:
        for split in ("train", "test"):
            pixels: torch.Tensor = getattr(self, f"{split}_pixels")
            labels: torch.Tensor = getattr(self, f"{split}_labels")
            check_pixels(pixels, f"{split}_pixels")
            if labels.shape != (pixels.shape[0],) or labels.dtype != torch.int64:
                raise ValueError(
                    f"{split}_labels must be int64 of shape ({pixels.shape[0]},), got "
                    f"{labels.dtype} {tuple(labels.shape)}"
                )
            if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
                raise ValueError(f"{split}_labels outside [0, num_classes={self.num_classes})")

    @property
    def train_images(self) -> NormalisedImages:
        """The training images, normalised per batch as they are indexed."""
        return NormalisedImages(self.train_pixels, self.channel_mean, self.channel_std)

    @property
    def test_images(self) -> NormalisedImages:
        """The test images, normalised (with the training statistics) per batch."""
        return NormalisedImages(self.test_pixels, self.channel_mean, self.channel_std)

    @property
    def image_size(self) -> int:
        return int(self.train_pixels.shape[-1])

    @property
    def num_train(self) -> int:
        return int(self.train_pixels.shape[0])


def flip_labels(
    labels: np.ndarray, fraction: float, num_classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the labels of ``round(fraction * N)`` random examples by a different random class.

    Returns ``(noisy_labels, flipped)`` where ``flipped`` marks the changed examples.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {fraction}")
    labels = np.asarray(labels, dtype=np.int64)
    flipped = np.zeros(len(labels), dtype=bool)
    count = round(fraction * len(labels))
    if count == 0:
        return labels.copy(), flipped
    if num_classes < 2:
        raise ValueError("label noise needs at least 2 classes")
    chosen = rng.choice(len(labels), size=count, replace=False)
    offset = rng.integers(1, num_classes, size=count)
    noisy = labels.copy()
    noisy[chosen] = (labels[chosen] + offset) % num_classes
    flipped[chosen] = True
    return noisy, flipped


def per_class_subset(
    labels: np.ndarray, num_classes: int, per_class: int, rng: np.random.Generator
) -> np.ndarray:
    """Sorted indices of ``per_class`` random examples of each class ``0..num_classes-1``.

    Raises when a class has fewer than ``per_class`` examples.
    """
    chosen = []
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(
                f"class {c} has {len(members)} examples, fewer than the requested per_class="
                f"{per_class}"
            )
        chosen.append(rng.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def resolve_root(root: Path | str | None, dataset: str, instructions: str) -> Path:
    """``root`` or ``$MODES_DATA``; a missing one is a ValueError telling what to download."""
    if root is None:
        env = os.environ.get(DATA_ENV_VAR)
        if not env:
            raise ValueError(
                f"dataset {dataset!r} needs a data root: pass --modes-data-root DIR (pytest), "
                f"root=DIR (Python) or set {DATA_ENV_VAR}=DIR. {instructions}"
            )
        root = env
    return Path(root).expanduser()


def load_dataset(
    name: str = "synthetic",
    data: DataScale | None = None,
    root: Path | str | None = None,
    seed: int = 0,
    download: bool = False,
    label_noise: float = 0.0,
) -> ImageDataset:
    """Load the dataset registered as ``name`` (kind "dataset") at size ``data``.

    ``root`` defaults to ``$MODES_DATA``; the synthetic dataset needs none. ``seed`` drives the
    class / example subset (and, for synthetic data, the generator); ``label_noise`` flips that
    fraction of training labels (recorded in ``train_meta["label_flipped"]``).
    """
    if data is None:
        from modes.scale import SMOKE

        data = SMOKE.data
    factory = registry.get("dataset", name)
    dataset: ImageDataset = factory(
        data=data, root=root, seed=seed, download=download, label_noise=label_noise
    )
    return dataset
