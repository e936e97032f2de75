"""The embedded synthetic long-tailed dataset: determinism, long-tail structure, label noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from modes.data import SyntheticConfig, load_dataset
from modes.data.synthetic import FEW_COMMON, MANY_RARE, generate, zipf_frequencies
from modes.registry import UnknownComponentError
from modes.scale import DataScale

SMALL = DataScale(num_classes=6, train_per_class=40, test_per_class=10)


def _bytes(d) -> bytes:
    return b"".join(np.ascontiguousarray(t.numpy()).tobytes() for t in
                    (d.train_pixels, d.train_labels, d.test_pixels, d.test_labels))


def test_same_seed_same_bytes_different_seed_different() -> None:
    a, b = load_dataset("synthetic", SMALL, seed=3), load_dataset("synthetic", SMALL, seed=3)
    c = load_dataset("synthetic", SMALL, seed=4)
    assert _bytes(a) == _bytes(b)
    assert a.fingerprint == b.fingerprint != c.fingerprint
    for key in a.train_meta:
        np.testing.assert_array_equal(a.train_meta[key], b.train_meta[key])
    assert not torch.equal(a.train_images.normalise(), c.train_images.normalise())


def test_shapes_normalisation_and_balance() -> None:
    d = load_dataset("synthetic", SMALL)
    assert d.train_images.shape == (240, 3, 32, 32) and d.test_images.shape == (60, 3, 32, 32)
    assert d.image_size == 32 and d.train_images.dtype == torch.float32
    assert d.train_images.normalise().dtype == torch.float32
    np.testing.assert_array_equal(np.bincount(d.train_labels.numpy()), [40] * 6)
    mean = d.train_images.normalise().mean(dim=(0, 2, 3))
    std = d.train_images.normalise().std(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.zeros(3), atol=1e-4)
    assert torch.allclose(std, torch.ones(3), atol=1e-3)
    assert all(len(v) == 240 for k, v in d.train_meta.items() if k != "class_kind")


def test_long_tail_structure() -> None:
    config = SyntheticConfig()
    d = generate(DataScale(num_classes=10, train_per_class=200, test_per_class=5), seed=0)
    kinds = d.train_meta["class_kind"]
    assert set(kinds) == {FEW_COMMON, MANY_RARE} and (kinds == FEW_COMMON).sum() == 5
    labels, subpop = d.train_labels.numpy(), d.train_meta["subpopulation"]
    rank = d.train_meta["subpopulation_rank"]
    for c in range(10):
        distinct = len(np.unique(subpop[labels == c]))
        if kinds[c] == FEW_COMMON:
            assert distinct <= config.few_common_subpopulations
        else:  # many rare sub-populations: many distinct ones, several seen at most once
            counts = np.bincount(rank[labels == c], minlength=config.many_rare_subpopulations)
            assert distinct > config.few_common_subpopulations
            assert (counts <= 1).sum() >= 5
    # sub-population ids never cross classes
    owner = {}
    for s, c in zip(subpop, labels, strict=True):
        assert owner.setdefault(s, c) == c


def test_label_noise_is_recorded() -> None:
    d = load_dataset("synthetic", SMALL, seed=1, label_noise=0.25)
    flipped = d.train_meta["label_flipped"]
    clean = d.train_meta["clean_label"]
    noisy = d.train_labels.numpy()
    assert flipped.sum() == 60
    assert np.all(noisy[flipped] != clean[flipped]) and np.all(noisy[~flipped] == clean[~flipped])
    with pytest.raises(ValueError, match="label_noise"):
        load_dataset("synthetic", SMALL, label_noise=1.5)


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 200), st.floats(0.0, 3.0))
def test_zipf_frequencies_sum_to_one_and_decrease(count: int, exponent: float) -> None:
    p = zipf_frequencies(count, exponent)
    assert p.shape == (count,) and np.isclose(p.sum(), 1.0)
    assert np.all(np.diff(p) <= 1e-15)


def test_unknown_dataset_lists_known_names() -> None:
    with pytest.raises(UnknownComponentError, match=r"cifar100.*mini-imagenet.*synthetic"):
        load_dataset("imagenet-1k", SMALL)


def test_bad_generator_arguments() -> None:
    with pytest.raises(ValueError, match="few_common_fraction"):
        SyntheticConfig(few_common_fraction=1.5)
    with pytest.raises(ValueError, match="classes"):
        generate(DataScale(num_classes=1, train_per_class=3, test_per_class=1))
