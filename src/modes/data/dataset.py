"""The in-memory image dataset every loader returns, and the helpers loaders share.

Images are float32 tensors ``(N, 3, H, W)`` normalised per channel with the *training* mean and
standard deviation (kept on the dataset so pixel-space quantities, e.g. smoothing noise, can be
converted). Labels are int64. ``train_meta`` holds per-image / per-class annotations as numpy arrays
(numeric or fixed-width unicode, so they can be stored in a pickle-free ``.npz``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import attrs
import numpy as np
import torch

from modes import registry
from modes.scale import DataScale

DATA_ENV_VAR = "MODES_DATA"


def _content_hash(self: ImageDataset) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(self.name.encode())
    for t in (self.train_images, self.train_labels, self.test_images, self.test_labels):
        h.update(np.ascontiguousarray(t.numpy()).tobytes())
    return h.hexdigest()


@attrs.frozen(eq=False)
class ImageDataset:
    """A labelled train/test split held in memory (normalised float32 images)."""

    name: str
    num_classes: int
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    train_meta: dict[str, np.ndarray] = attrs.field(factory=dict)
    test_meta: dict[str, np.ndarray] = attrs.field(factory=dict)
    channel_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    channel_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    fingerprint: str = attrs.field(
        default=attrs.Factory(_content_hash, takes_self=True)
    )

    def __attrs_post_init__(self) -> None:
        for split in ("train", "test"):
            images: torch.Tensor = getattr(self, f"{split}_images")
            labels: torch.Tensor = getattr(self, f"{split}_labels")
            if images.ndim != 4 or images.shape[1] != 3 or images.dtype != torch.float32:
                raise ValueError(
                    f"{split}_images must be a float32 (N, 3, H, W) tensor, got "
                    f"{images.dtype} {tuple(images.shape)}"
                )
            if labels.shape != (images.shape[0],) or labels.dtype != torch.int64:
                raise ValueError(
                    f"{split}_labels must be int64 of shape ({images.shape[0]},), got "
                    f"{labels.dtype} {tuple(labels.shape)}"
                )
            if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
                raise ValueError(f"{split}_labels outside [0, num_classes={self.num_classes})")

    @property
    def image_size(self) -> int:
        return int(self.train_images.shape[-1])

    @property
    def num_train(self) -> int:
        return int(self.train_images.shape[0])


def normalise(
    train_u8: np.ndarray, test_u8: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, tuple[float, ...], tuple[float, ...]]:
    """(N, H, W, 3) uint8 or [0, 1] float arrays -> normalised (N, 3, H, W) float32 tensors.

    The per-channel mean / std are those of the training images (in [0, 1] pixel units).
    """
    scale = 255.0 if train_u8.dtype == np.uint8 else 1.0
    train = torch.from_numpy(np.ascontiguousarray(train_u8)).permute(0, 3, 1, 2).float() / scale
    test = torch.from_numpy(np.ascontiguousarray(test_u8)).permute(0, 3, 1, 2).float() / scale
    mean = train.mean(dim=(0, 2, 3))
    std = train.std(dim=(0, 2, 3)).clamp_min(1e-6)
    shift, div = mean.view(1, 3, 1, 1), std.view(1, 3, 1, 1)
    train = ((train - shift) / div).contiguous()
    test = ((test - shift) / div).contiguous()
    return train, test, tuple(mean.tolist()), tuple(std.tolist())


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
