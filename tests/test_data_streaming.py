"""Images stored as uint8 and normalised per batch: exact statistics, batches equal to the whole."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from modes.data import load_dataset
from modes.data.dataset import ImageDataset
from modes.data.streaming import NormalisedImages, channel_statistics, pixels_from_hwc
from modes.scale import DataScale


def _pixels(n: int, size: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 12), st.integers(1, 6), st.integers(0, 10_000))
def test_channel_statistics_are_the_float64_mean_and_sd(n: int, size: int, seed: int) -> None:
    if n * size * size < 2:
        return
    pixels = _pixels(n, size, seed)
    mean, std = channel_statistics(pixels)
    values = pixels.numpy().astype(np.float64) / 255
    np.testing.assert_allclose(mean, values.mean(axis=(0, 2, 3)), rtol=1e-12, atol=1e-15)
    expected = np.maximum(values.std(axis=(0, 2, 3), ddof=1), 1e-6)
    np.testing.assert_allclose(std, expected, rtol=1e-10, atol=1e-15)


def test_channel_statistics_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="uint8"):
        channel_statistics(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="at least 2 pixels"):
        channel_statistics(torch.zeros(1, 3, 1, 1, dtype=torch.uint8))
    assert channel_statistics(torch.full((2, 3, 2, 2), 7, dtype=torch.uint8))[1] == (1e-6,) * 3


def test_every_batch_is_the_slice_of_the_whole_normalisation() -> None:
    pixels = _pixels(20, 5, seed=1)
    mean, std = channel_statistics(pixels)
    images = NormalisedImages(pixels, mean, std)
    # the formula of the former eager normalisation, on the whole set at once
    whole = (pixels.float() / 255.0 - torch.tensor(mean).view(1, 3, 1, 1)) \
        / torch.tensor(std).view(1, 3, 1, 1)
    assert torch.equal(images.normalise(), whole) and images.normalise().dtype == torch.float32
    index = torch.tensor([[3, 0, 19], [7, 7, 2]])
    assert torch.equal(images[index], whole[index]) and images[index].shape == (2, 3, 3, 5, 5)
    assert torch.equal(images[np.array([4, 1])], whole[[4, 1]])
    assert torch.equal(images[2:9], whole[2:9]) and torch.equal(images[5], whole[5])
    assert len(images) == 20 and images.shape == (20, 3, 5, 5) and images.ndim == 4
    with pytest.raises(TypeError, match="indexed by image"):
        images[:, 0]  # type: ignore[index]


def test_views_reject_bad_pixels_and_statistics() -> None:
    with pytest.raises(ValueError, match="uint8"):
        NormalisedImages(torch.zeros(2, 3, 4, 4), (0.0,) * 3, (1.0,) * 3)
    with pytest.raises(ValueError, match="positive"):
        NormalisedImages(_pixels(2, 4, 0), (0.0,) * 3, (1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="uint8"):
        pixels_from_hwc(np.zeros((2, 4, 4, 3), dtype=np.float32))


def test_the_dataset_holds_the_raw_uint8_size() -> None:
    data = DataScale(num_classes=4, train_per_class=10, test_per_class=3)
    d = load_dataset("synthetic", data, seed=0)
    tensors = [v for v in attrs.asdict(d, recurse=False).values() if isinstance(v, torch.Tensor)]
    images = [t for t in tensors if t.ndim == 4]
    assert all(t.dtype == torch.uint8 for t in images)
    raw = (40 + 12) * 3 * 32 * 32
    assert sum(t.numel() * t.element_size() for t in images) == raw
    assert d.channel_mean == d.train_images.mean and d.channel_std == d.train_images.std
    assert (d.channel_mean, d.channel_std) == channel_statistics(d.train_pixels)


def test_fingerprints_follow_the_pixels() -> None:
    pixels = _pixels(6, 4, seed=2)
    labels = torch.arange(6) % 2
    a = ImageDataset("t", 2, pixels, labels, pixels[:2], labels[:2])
    changed = pixels.clone()
    changed[0, 0, 0, 0] ^= 1
    b = ImageDataset("t", 2, changed, labels, pixels[:2], labels[:2])
    assert a.fingerprint != b.fingerprint
    assert a.train_images.fingerprint != b.train_images.fingerprint
    assert a.train_images.fingerprint == ImageDataset("t", 2, pixels.clone(), labels, pixels[:2],
                                                      labels[:2]).train_images.fingerprint
    with pytest.raises(ValueError, match="train_pixels must be a uint8"):
        ImageDataset("t", 2, pixels.float(), labels, pixels[:2], labels[:2])
