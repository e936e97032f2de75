"""Mini-ImageNet loading (folder and csv layouts, fixed pooled split) on tiny real file trees."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modes.data import load_dataset
from modes.data.mini_imagenet import paper_split
from modes.scale import DataScale

WNIDS = ["n01", "n02", "n03"]
SCALE = DataScale(num_classes=2, train_per_class=5, test_per_class=1, image_size=84)


def _image(value: int, size: int = 84) -> Image.Image:
    return Image.fromarray(np.full((size, size, 3), value, dtype=np.uint8))


def _folder_tree(root: Path) -> None:
    # 6 images per class spread over train/val/test, one stored at 100x100 (resized on load)
    for c, wnid in enumerate(WNIDS):
        for i in range(6):
            subset = ("train", "train", "train", "val", "val", "test")[i]
            folder = root / subset / wnid
            folder.mkdir(parents=True, exist_ok=True)
            _image(40 * c + i, 100 if i == 5 else 84).save(folder / f"{wnid}_{i}.png")


def _csv_tree(root: Path) -> None:
    (root / "images").mkdir(parents=True)
    rows: dict[str, list[tuple[str, str]]] = {"train": [], "val": [], "test": []}
    for c, wnid in enumerate(WNIDS):
        for i in range(6):
            name = f"{wnid}{i:04d}.png"
            _image(40 * c + i).save(root / "images" / name)
            rows[("train", "val", "test")[i % 3]].append((name, wnid))
    for subset, entries in rows.items():
        with open(root / f"{subset}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["filename", "label"])
            writer.writerows(entries)


def _pixel_values(d) -> set[int]:
    raw = d.train_images.normalise()[:, 0, 0, 0] * d.channel_std[0] + d.channel_mean[0]
    return {round(float(v) * 255) for v in raw}


@pytest.mark.parametrize("make_tree", [_folder_tree, _csv_tree])
def test_layouts_load_pooled_images(tmp_path, make_tree) -> None:
    make_tree(tmp_path)
    d = load_dataset("mini-imagenet", SCALE, root=tmp_path)
    assert d.train_images.shape == (10, 3, 84, 84) and d.test_images.shape == (2, 3, 84, 84)
    np.testing.assert_array_equal(np.bincount(d.train_labels.numpy()), [5, 5])
    assert list(d.train_meta["wnid"]) == ["n01", "n02"]
    labels = d.train_labels.numpy()
    raw = d.train_images.normalise()[:, 0, 0, 0] * d.channel_std[0] + d.channel_mean[0]
    classes = np.round(raw.numpy() * 255).astype(int) // 40
    np.testing.assert_array_equal(classes, labels)  # pixel value 40*c+i identifies the class


def test_split_is_fixed_across_seeds(tmp_path) -> None:
    _folder_tree(tmp_path)
    a = load_dataset("mini-imagenet", SCALE, root=tmp_path, seed=0)
    b = load_dataset("mini-imagenet", SCALE, root=tmp_path, seed=1)
    assert _pixel_values(a) == _pixel_values(b)  # all 5 train images per class, same split


def test_paper_split_sizes() -> None:
    parts = paper_split([600] * 100)
    assert sum(len(tr) for tr, _ in parts) == 50_000 and sum(len(te) for _, te in parts) == 10_000
    for tr, te in parts:
        assert not set(tr) & set(te)


def test_missing_root_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MODES_DATA", raising=False)
    with pytest.raises(ValueError, match=r"--modes-data-root.*MODES_DATA.*Mini-ImageNet"):
        load_dataset("mini-imagenet", SCALE)
    with pytest.raises(FileNotFoundError,
                       match=r"train/<wnid>/\*\.jpg.*train\.csv.*--modes-data-root"):
        load_dataset("mini-imagenet", SCALE, root=tmp_path)
    with pytest.raises(ValueError, match="cannot be downloaded"):
        load_dataset("mini-imagenet", SCALE, root=tmp_path, download=True)
