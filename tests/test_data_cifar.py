"""CIFAR-100 loading through the real reading code, on a tiny fake copy of the python layout."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from modes.data import load_dataset
from modes.scale import DataScale


def _write_split(path: Path, labels: list[int], rng: np.random.Generator) -> np.ndarray:
    data = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    with open(path, "wb") as fh:
        pickle.dump({"data": data, "fine_labels": labels, "coarse_labels": [0] * len(labels)}, fh)
    return data


@pytest.fixture
def cifar_root(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(0)
    train = _write_split(folder / "train", [i % 5 for i in range(20)], rng)
    test = _write_split(folder / "test", [i % 5 for i in range(10)], rng)
    with open(folder / "meta", "wb") as fh:
        pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)]}, fh)
    return tmp_path, train, test


def test_loads_subset_with_exact_pixels(cifar_root) -> None:
    root, train_raw, _ = cifar_root
    d = load_dataset("cifar100", DataScale(num_classes=3, train_per_class=2, test_per_class=1),
                     root=root, seed=0)
    assert d.train_images.shape == (6, 3, 32, 32) and d.test_images.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(np.bincount(d.train_labels.numpy()), [2, 2, 2])
    # undo the normalisation: every image is one of the source images of its class, as uint8
    mean = torch.tensor(d.channel_mean).view(1, 3, 1, 1)
    std = torch.tensor(d.channel_std).view(1, 3, 1, 1)
    pixels = torch.round((d.train_images.normalise() * std + mean) * 255).to(torch.uint8).numpy()
    np.testing.assert_array_equal(pixels, d.train_pixels.numpy())  # stored as the raw uint8
    source = train_raw.reshape(-1, 3, 32, 32)
    for image, label in zip(pixels, d.train_labels.numpy(), strict=True):
        matches = [i for i in range(20) if np.array_equal(source[i], image)]
        assert len(matches) == 1 and matches[0] % 5 == label


def test_root_from_environment(cifar_root, monkeypatch) -> None:
    root, _, _ = cifar_root
    monkeypatch.setenv("MODES_DATA", str(root))
    d = load_dataset("cifar100", DataScale(num_classes=2, train_per_class=4, test_per_class=2))
    assert d.name == "cifar100" and d.num_train == 8


def test_missing_root_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MODES_DATA", raising=False)
    scale = DataScale(num_classes=2, train_per_class=1, test_per_class=1)
    with pytest.raises(ValueError,
                       match=r"--modes-data-root.*MODES_DATA.*cifar-100-python\.tar\.gz"):
        load_dataset("cifar100", scale)
    with pytest.raises(FileNotFoundError, match=r"cifar-100-python/train.*cifar-100-python\.tar"):
        load_dataset("cifar100", scale, root=tmp_path)


def test_too_many_per_class_is_an_error(cifar_root) -> None:
    root, _, _ = cifar_root
    with pytest.raises(ValueError, match="per_class=5"):
        load_dataset("cifar100", DataScale(num_classes=2, train_per_class=5, test_per_class=1),
                     root=root)
