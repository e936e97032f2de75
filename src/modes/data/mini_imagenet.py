"""Mini-ImageNet (Vinyals et al. 2016) from a user-given root, re-split as in the paper.

The paper pools the images of the provided train / val / test subsets (100 classes x 600 images)
and splits them randomly into 50,000 training and 10,000 test images. Here the split is drawn once
with the fixed seed ``SPLIT_SEED``, stratified by class (5/6 of each class to training: 500 / 100
per class), so it is identical for every run and every ``seed``. Images are 84x84 RGB (resized
bilinearly when stored at another size). Two common layouts are read, under ``root`` or
``root/mini-imagenet``:

* folders: ``{train,val,test}/<wnid>/*.jpg`` (also ``.jpeg`` / ``.png``);
* csv + images (Ravi & Larochelle): ``{train,val,test}.csv`` with a ``filename,label`` header and
  the files in ``images/``.

Classes are numbered by sorted wnid; the first ``data.num_classes`` are kept, and
``train_per_class`` / ``test_per_class`` images of each are drawn with ``seed`` (only those are
decoded).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from modes.data.dataset import ImageDataset, flip_labels, per_class_subset, resolve_root
from modes.data.streaming import channel_statistics, pixels_from_hwc
from modes.registry import register
from modes.scale import DataScale

IMAGE_SIZE = 84
SPLIT_SEED = 20_211_202
TRAIN_FRACTION = 5 / 6  # 50,000 of 60,000
SUBSETS = ("train", "val", "test")
SUFFIXES = (".jpg", ".jpeg", ".png")
INSTRUCTIONS = (
    "Download Mini-ImageNet (e.g. the Ravi & Larochelle csv split with its images/ folder, or a "
    "copy arranged as train/, val/, test/ folders of <wnid>/*.jpg) and place it in DIR so that "
    "DIR/train/<wnid>/*.jpg (or DIR/train.csv + DIR/images/) exist."
)


def _find_layout(root: Path) -> dict[str, list[Path]]:
    """wnid -> image files, pooled over the train / val / test subsets."""
    for base in (root, root / "mini-imagenet"):
        files: dict[str, list[Path]] = defaultdict(list)
        if all((base / f"{s}.csv").is_file() for s in SUBSETS) and (base / "images").is_dir():
            for subset in SUBSETS:
                with open(base / f"{subset}.csv", newline="") as fh:
                    for row in csv.DictReader(fh):
                        files[row["label"]].append(base / "images" / row["filename"])
            return dict(files)
        if any((base / s).is_dir() for s in SUBSETS):
            for subset in SUBSETS:
                for class_dir in sorted(p for p in (base / subset).glob("*") if p.is_dir()):
                    files[class_dir.name] += sorted(
                        p for p in class_dir.iterdir() if p.suffix.lower() in SUFFIXES
                    )
            if files:
                return dict(files)
    raise FileNotFoundError(
        f"Mini-ImageNet not found under {root}: expected {root}/train/<wnid>/*.jpg (with val/ and "
        f"test/) or {root}/train.csv, val.csv, test.csv and {root}/images/. {INSTRUCTIONS} "
        "Point --modes-data-root or MODES_DATA at DIR."
    )


def paper_split(counts: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per class, (train positions, test positions) of the fixed random 5/6 : 1/6 split."""
    rng = np.random.default_rng(SPLIT_SEED)
    out = []
    for n in counts:
        order = rng.permutation(n)
        cut = round(TRAIN_FRACTION * n)
        out.append((np.sort(order[:cut]), np.sort(order[cut:])))
    return out


def _decode(paths: list[Path]) -> np.ndarray:
    from PIL import Image

    images = np.empty((len(paths), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        with Image.open(path) as img:
            rgb = img.convert("RGB")
            if rgb.size != (IMAGE_SIZE, IMAGE_SIZE):
                rgb = rgb.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
            images[i] = np.asarray(rgb)
    return images


@register("dataset", "mini-imagenet")
def load_mini_imagenet(
    data: DataScale, root: Path | str | None = None, seed: int = 0, download: bool = False,
    label_noise: float = 0.0,
) -> ImageDataset:
    """Mini-ImageNet (84x84) at size ``data``; see the module docstring for layouts and split."""
    base = resolve_root(root, "mini-imagenet", INSTRUCTIONS)
    if download:
        raise ValueError(f"Mini-ImageNet cannot be downloaded automatically. {INSTRUCTIONS}")
    files = _find_layout(base)
    wnids = sorted(files)
    if not 1 <= data.num_classes <= len(wnids):
        raise ValueError(f"found {len(wnids)} classes under {base}; num_classes={data.num_classes}")
    wnids = wnids[: data.num_classes]
    split = paper_split([len(files[w]) for w in wnids])
    rng = np.random.default_rng([seed, 84])
    chosen: dict[str, tuple[list[Path], np.ndarray]] = {}
    for which, per_class in ((0, data.train_per_class), (1, data.test_per_class)):
        paths = [files[w][i] for w, parts in zip(wnids, split, strict=True) for i in parts[which]]
        labels = np.concatenate(
            [np.full(len(parts[which]), c, np.int64) for c, parts in enumerate(split)]
        )
        keep = per_class_subset(labels, data.num_classes, per_class, rng)
        chosen["train" if which == 0 else "test"] = ([paths[i] for i in keep], labels[keep])
    train_paths, train_y = chosen["train"]
    test_paths, test_y = chosen["test"]
    noisy_y, flipped = flip_labels(train_y, label_noise, data.num_classes, rng)
    train, test = (pixels_from_hwc(u8) for u8 in (_decode(train_paths), _decode(test_paths)))
    mean, std = channel_statistics(train)
    return ImageDataset(
        name="mini-imagenet",
        num_classes=data.num_classes,
        train_pixels=train,
        train_labels=torch.from_numpy(noisy_y),
        test_pixels=test,
        test_labels=torch.from_numpy(test_y),
        train_meta={"label_flipped": flipped, "clean_label": train_y,
                    "wnid": np.array(wnids)},
        channel_mean=mean,
        channel_std=std,
    )
