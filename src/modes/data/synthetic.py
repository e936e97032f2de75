"""Embedded synthetic long-tailed image dataset (the default; no download).

A procedural version of Feldman's (2020) long-tail model: every class is a mixture of
*sub-populations* whose frequencies follow a Zipf law, ``p_k ∝ k^-zipf_exponent`` for the k-th
sub-population of a class. Classes come in two kinds:

* ``"few-common"``: ``few_common_subpopulations`` sub-populations, each frequent;
* ``"many-rare"``: ``many_rare_subpopulations`` sub-populations, most of which are seen a handful
  of times (or never) in an ``n``-image training set, i.e. with frequency around or below ``1/n``
  per class.

An image of sub-population ``k`` of class ``c`` is built as follows (32x32 RGB by default):

1. ``raw = class_weight * F_c + subpopulation_weight * (F_ck + B_ck) + image_weight * F_i``, where
   ``F_c`` (shared by the class), ``F_ck`` (the sub-population) and ``F_i`` (this image) are random
   smooth colour fields: sums of Fourier modes up to ``max_frequency`` cycles per image with a
   ``(1+|f|)^-spectrum_decay`` amplitude spectrum, a random-colour luminance pattern plus weaker
   per-channel patterns, each scaled to unit standard deviation; ``B_ck`` is a coloured
   Gaussian blob (radius ``blob_radius`` of the image side, random centre and colour,
   ``blob_amplitude``) that gives the sub-population a localised shape;
2. the image is shifted by up to ``max_shift`` pixels (circularly), mirrored left-right with
   probability 1/2 (the distribution is flip-symmetric, like natural images), its contrast is
   scaled by ``1 + U(-contrast_jitter, contrast_jitter)``;
3. pixels are squashed to ``[0, 1]`` with ``0.5 + 0.5 tanh(raw / 2)``, perturbed by Gaussian noise
   of std ``pixel_noise`` and quantised to uint8.

Train and test images are drawn independently from the same model, ``train_per_class`` /
``test_per_class`` per class. Nothing about the network representations is built in: the
generator only fixes how classes split into sub-populations and how often each is seen. With
``label_noise > 0`` that fraction of training labels is flipped to another class.

``train_meta``: ``subpopulation`` (global sub-population id per train image), ``subpopulation_rank``
(the Zipf rank ``k`` within its class, 0 = most frequent), ``subpopulation_frequency`` (its
probability within the class), ``label_flipped``, ``clean_label``, and per class ``class_kind``.
``test_meta`` holds ``subpopulation`` and ``subpopulation_rank`` for test images.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import torch

from modes.data.dataset import ImageDataset, flip_labels
from modes.data.streaming import channel_statistics, pixels_from_hwc
from modes.registry import register
from modes.scale import DataScale

FEW_COMMON = "few-common"
MANY_RARE = "many-rare"


@attrs.frozen
class SyntheticConfig:
    """Parameters of the long-tailed generator (see the module docstring for their roles)."""

    few_common_fraction: float = attrs.field(default=0.5)
    few_common_subpopulations: int = 3
    many_rare_subpopulations: int = 40
    zipf_exponent: float = 1.0
    max_frequency: int = 3
    spectrum_decay: float = 1.5
    class_weight: float = 0.5
    subpopulation_weight: float = 1.0
    image_weight: float = 0.5
    blob_amplitude: float = 1.5
    blob_radius: tuple[float, float] = (0.1, 0.25)
    max_shift: int = 2
    contrast_jitter: float = 0.2
    pixel_noise: float = 0.05

    @few_common_fraction.validator
    def _check_fraction(self, _: attrs.Attribute[float], value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"few_common_fraction must be in [0, 1], got {value}")

    def __attrs_post_init__(self) -> None:
        if self.few_common_subpopulations < 1 or self.many_rare_subpopulations < 1:
            raise ValueError("sub-population counts must be >= 1")
        if self.max_frequency < 1:
            raise ValueError(f"max_frequency must be >= 1, got {self.max_frequency}")


def zipf_frequencies(count: int, exponent: float) -> np.ndarray:
    """Sub-population probabilities ``p_k ∝ k^-exponent``, ``k = 1..count``."""
    weights = np.arange(1, count + 1, dtype=np.float64) ** -exponent
    return np.asarray(weights / weights.sum())


def _fourier_basis(size: int, max_frequency: int, spectrum_decay: float) -> np.ndarray:
    """(M, size, size) cosine/sine modes, amplitude (1+|f|)^-decay, frequencies <= max_frequency."""
    coords = np.arange(size) / size
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    modes = []
    for fx in range(max_frequency + 1):
        for fy in range(-max_frequency, max_frequency + 1):
            if fx == 0 and fy <= 0:
                continue  # (0, 0) is the DC term; (0, -f) duplicates (0, f)
            phase = 2 * np.pi * (fx * xx + fy * yy)
            amplitude = (1.0 + np.hypot(fx, fy)) ** -spectrum_decay
            modes += [amplitude * np.cos(phase), amplitude * np.sin(phase)]
    return np.stack(modes).astype(np.float32)


def _smooth_fields(count: int, basis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(count, 3, H, W) random smooth colour fields, each scaled to unit standard deviation.

    Each field is a random-colour luminance pattern plus weaker independent per-channel patterns
    (channels of natural images are strongly correlated).
    """
    luminance = rng.standard_normal((count, 1, basis.shape[0]))
    colour = rng.standard_normal((count, 3, 1))
    chroma = rng.standard_normal((count, 3, basis.shape[0]))
    coefficients = (colour * luminance + 0.5 * chroma).astype(np.float32)
    fields = np.einsum("ncm,mhw->nchw", coefficients, basis)
    std = fields.reshape(count, -1).std(axis=1).reshape(count, 1, 1, 1)
    return np.asarray(fields / np.maximum(std, 1e-6))


def _blobs(count: int, size: int, config: SyntheticConfig, rng: np.random.Generator) -> np.ndarray:
    """(count, 3, H, W) coloured Gaussian blobs at random centres with random radii."""
    centre = rng.uniform(0, size, (count, 2))
    radius = rng.uniform(*config.blob_radius, count) * size
    colour = rng.standard_normal((count, 3))
    grid = np.arange(size)
    dy = grid[None, :, None] - centre[:, 0, None, None]
    dx = grid[None, None, :] - centre[:, 1, None, None]
    shape = np.exp(-(dy**2 + dx**2) / (2 * radius[:, None, None] ** 2))
    blobs = config.blob_amplitude * colour[:, :, None, None] * shape[:, None]
    return blobs.astype(np.float32)


def _class_kinds(num_classes: int, config: SyntheticConfig, rng: np.random.Generator) -> np.ndarray:
    few = round(config.few_common_fraction * num_classes)
    kinds = np.array([FEW_COMMON] * few + [MANY_RARE] * (num_classes - few))
    return kinds[rng.permutation(num_classes)]


def _sample_split(
    per_class: int, offsets: np.ndarray, freqs: list[np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class labels, global sub-population ids and within-class ranks for one split."""
    labels, ranks = [], []
    for c, p in enumerate(freqs):
        labels.append(np.full(per_class, c, dtype=np.int64))
        ranks.append(rng.choice(len(p), size=per_class, p=p))
    label = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    rank = np.concatenate(ranks).astype(np.int64) if ranks else np.zeros(0, np.int64)
    return label, offsets[label] + rank, rank


def _render(
    prototypes: np.ndarray, subpop: np.ndarray, basis: np.ndarray, config: SyntheticConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """(N, H, W, 3) uint8 images of the given sub-populations (steps 1-3 of the module doc)."""
    n, size = len(subpop), prototypes.shape[-1]
    raw = prototypes[subpop] + config.image_weight * _smooth_fields(n, basis, rng)
    shift = rng.integers(-config.max_shift, config.max_shift + 1, (n, 2))
    grid = np.arange(size)
    rows = (grid[None, :] - shift[:, :1]) % size
    cols = (grid[None, :] - shift[:, 1:]) % size
    flip = rng.random(n) < 0.5
    cols = np.where(flip[:, None], cols[:, ::-1], cols)
    idx = np.arange(n)[:, None, None, None]
    chan = np.arange(3)[None, :, None, None]
    raw = raw[idx, chan, rows[:, None, :, None], cols[:, None, None, :]]
    contrast = 1.0 + rng.uniform(-config.contrast_jitter, config.contrast_jitter, n)
    raw = raw * contrast[:, None, None, None].astype(np.float32)
    pixels = 0.5 + 0.5 * np.tanh(raw / 2)
    pixels = pixels + config.pixel_noise * rng.standard_normal(pixels.shape).astype(np.float32)
    u8 = np.clip(np.rint(pixels * 255), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(u8.transpose(0, 2, 3, 1))


def generate(
    data: DataScale, seed: int = 0, label_noise: float = 0.0,
    config: SyntheticConfig | None = None,
) -> ImageDataset:
    """Generate the synthetic long-tailed dataset of size ``data`` from ``seed``."""
    config = config or SyntheticConfig()
    if data.num_classes < 2 or data.train_per_class < 1 or data.test_per_class < 1:
        raise ValueError(f"synthetic data needs >= 2 classes and >= 1 image per split, got {data}")
    if data.image_size < 8:
        raise ValueError(f"image_size must be >= 8, got {data.image_size}")
    rng = np.random.default_rng([seed, 0x5EED])
    size = data.image_size
    basis = _fourier_basis(size, config.max_frequency, config.spectrum_decay)
    kinds = _class_kinds(data.num_classes, config, rng)
    counts = np.where(kinds == FEW_COMMON, config.few_common_subpopulations,
                      config.many_rare_subpopulations)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    freqs = [zipf_frequencies(int(k), config.zipf_exponent) for k in counts]
    class_of_subpop = np.repeat(np.arange(data.num_classes), counts)

    class_fields = _smooth_fields(data.num_classes, basis, rng)
    n_subpops = int(counts.sum())
    subpop_patterns = _smooth_fields(n_subpops, basis, rng) + _blobs(n_subpops, size, config, rng)
    prototypes = (config.class_weight * class_fields[class_of_subpop]
                  + config.subpopulation_weight * subpop_patterns)

    train_y, train_sub, train_rank = _sample_split(data.train_per_class, offsets, freqs, rng)
    test_y, test_sub, test_rank = _sample_split(data.test_per_class, offsets, freqs, rng)
    train_u8 = _render(prototypes, train_sub, basis, config, rng)
    test_u8 = _render(prototypes, test_sub, basis, config, rng)
    noisy_y, flipped = flip_labels(train_y, label_noise, data.num_classes, rng)

    train, test = (pixels_from_hwc(u8) for u8 in (train_u8, test_u8))
    mean, std = channel_statistics(train)
    return ImageDataset(
        name="synthetic",
        num_classes=data.num_classes,
        train_pixels=train,
        train_labels=torch.from_numpy(noisy_y),
        test_pixels=test,
        test_labels=torch.from_numpy(test_y),
        train_meta={
            "subpopulation": train_sub,
            "subpopulation_rank": train_rank,
            "subpopulation_frequency": np.concatenate(freqs)[train_sub],
            "label_flipped": flipped,
            "clean_label": train_y,
            "class_kind": kinds,
        },
        test_meta={"subpopulation": test_sub, "subpopulation_rank": test_rank},
        channel_mean=mean,
        channel_std=std,
    )


@register("dataset", "synthetic")
def load_synthetic(
    data: DataScale, root: Path | str | None = None, seed: int = 0, download: bool = False,
    label_noise: float = 0.0,
) -> ImageDataset:
    """Registry entry: the synthetic dataset needs no ``root`` and never downloads."""
    del root, download  # embedded: nothing to read or fetch
    return generate(data, seed=seed, label_noise=label_noise)
