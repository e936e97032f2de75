"""CIFAR-100 from a user-given root (torchvision's "python version" layout).

Expected files: ``<root>/cifar-100-python/{train,test,meta}`` as extracted from
https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz (``root`` may also be the
``cifar-100-python`` folder itself). With ``download=True`` torchvision fetches and extracts the
archive into ``root`` first. The files are the official pickled batches; they are read with
``pickle`` exactly as torchvision reads them, so only point ``root`` at data you trust.

The first ``data.num_classes`` fine labels are kept, with ``train_per_class`` / ``test_per_class``
images of each drawn at random with ``seed`` (all of them at the full scale: 500 / 100).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from modes.data.dataset import ImageDataset, flip_labels, per_class_subset, resolve_root
from modes.data.streaming import channel_statistics, pixels_from_hwc
from modes.registry import register
from modes.scale import DataScale

FOLDER = "cifar-100-python"
URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
INSTRUCTIONS = (
    f"Download the CIFAR-100 python version ({URL}) and extract it so that "
    f"DIR/{FOLDER}/train, DIR/{FOLDER}/test and DIR/{FOLDER}/meta exist, or let torchvision "
    "download it (download=True)."
)


def _folder(root: Path) -> Path:
    for candidate in (root / FOLDER, root):
        if (candidate / "train").is_file() and (candidate / "test").is_file():
            return candidate
    raise FileNotFoundError(
        f"CIFAR-100 not found under {root}: expected {root / FOLDER}/train and "
        f"{root / FOLDER}/test. {INSTRUCTIONS} Point --modes-data-root or MODES_DATA at DIR."
    )


def read_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 32, 32, 3) uint8 images and (N,) int64 fine labels of one pickled CIFAR-100 split."""
    with open(path, "rb") as fh:
        entry = pickle.load(fh, encoding="latin1")
    images = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(entry["fine_labels"], dtype=np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{path}: {len(images)} images but {len(labels)} labels")
    return images, labels


@register("dataset", "cifar100")
def load_cifar100(
    data: DataScale, root: Path | str | None = None, seed: int = 0, download: bool = False,
    label_noise: float = 0.0,
) -> ImageDataset:
    """CIFAR-100 (32x32) at size ``data``; see the module docstring for the expected layout."""
    base = resolve_root(root, "cifar100", INSTRUCTIONS)
    if download:
        from torchvision.datasets import CIFAR100

        for is_train in (True, False):
            CIFAR100(str(base), train=is_train, download=True)
    folder = _folder(base)
    if not 1 <= data.num_classes <= 100:
        raise ValueError(f"CIFAR-100 has 100 classes; num_classes={data.num_classes}")
    rng = np.random.default_rng([seed, 100])
    splits = []
    for split, per_class in (("train", data.train_per_class), ("test", data.test_per_class)):
        images, labels = read_split(folder / split)
        keep = per_class_subset(labels, data.num_classes, per_class, rng)
        splits.append((images[keep], labels[keep]))
    (train_u8, train_y), (test_u8, test_y) = splits
    noisy_y, flipped = flip_labels(train_y, label_noise, data.num_classes, rng)
    train, test = (pixels_from_hwc(u8) for u8 in (train_u8, test_u8))
    mean, std = channel_statistics(train)
    return ImageDataset(
        name="cifar100",
        num_classes=data.num_classes,
        train_pixels=train,
        train_labels=torch.from_numpy(noisy_y),
        test_pixels=test,
        test_labels=torch.from_numpy(test_y),
        train_meta={"label_flipped": flipped, "clean_label": train_y},
        channel_mean=mean,
        channel_std=std,
    )
