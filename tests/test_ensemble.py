"""Batched ensemble training: each member is the model it would be if trained alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from modes import registry
from modes.scale import TrainScale
from modes.training.augment import random_crop_flip
from modes.training.ensemble import member_batches, member_inputs, train_ensemble

torch.set_num_threads(1)

CLASSES = 4
SIZE = 8


def resnet() -> torch.nn.Module:
    return registry.create("backbone", "resnet18", num_classes=CLASSES, width=0.125).module()


def resnet64() -> torch.nn.Module:
    return resnet().double()


def prototype_images(n_per_class: int, noise: float, seed: int) -> tuple[torch.Tensor, ...]:
    """Class prototypes plus Gaussian noise: an easy task with a known answer."""
    rng = np.random.default_rng(seed)
    protos = np.random.default_rng(0).normal(size=(CLASSES, 3, SIZE, SIZE))
    y = np.repeat(np.arange(CLASSES), n_per_class)
    x = protos[y] + noise * rng.normal(size=(len(y), 3, SIZE, SIZE))
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y)


def equal_size_masks(members: int, n: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = np.zeros((members, n), dtype=bool)
    for k in range(members):
        masks[k, rng.choice(n, size=size, replace=False)] = True
    return masks


def test_members_trained_together_equal_members_trained_alone():
    """In float64, so that rounding differences between the grouped and the plain convolution
    (which tiny-batch BatchNorm training amplifies) stay far below the tolerance."""
    x, y = prototype_images(12, 1.0, seed=1)
    x = x.double()
    masks = equal_size_masks(3, len(y), 30, seed=2)
    train = TrainScale(epochs=2, batch_size=8, max_lr=0.05, width=0.125, crop_padding=1)
    seeds = [11, 22, 33]
    together = train_ensemble(resnet64, x, y, masks, train, seeds, noise_std=0.1)
    logits = together.logits(x)
    for k in range(3):
        alone = train_ensemble(resnet64, x, y, masks[k:k + 1], train, seeds[k:k + 1],
                               noise_std=0.1)
        torch.testing.assert_close(alone.logits(x)[0], logits[k], rtol=1e-9, atol=1e-9)


def test_stacked_network_trains_as_the_vmapped_module():
    """The channel-stacked ResNet (grouped convolutions, batch norm over stacked channels) gives
    the members that vmap over the unmodified module gives, up to float64 rounding."""
    x, y = prototype_images(12, 1.0, seed=6)
    x = x.double()
    masks = equal_size_masks(2, len(y), 30, seed=7)
    train = TrainScale(epochs=2, batch_size=8, max_lr=0.05, width=0.125, crop_padding=1)
    stacked = train_ensemble(resnet64, x, y, masks, train, [5, 6], noise_std=0.1,
                             method="stacked")
    vmapped = train_ensemble(resnet64, x, y, masks, train, [5, 6], noise_std=0.1, method="vmap")
    assert stacked.stacked is not None and vmapped.stacked is None
    for name, value in {**vmapped.params, **vmapped.buffers}.items():
        other = {**stacked.params, **stacked.buffers}[name]
        torch.testing.assert_close(other, value, rtol=1e-9, atol=1e-9, msg=name)
    torch.testing.assert_close(stacked.logits(x), vmapped.logits(x), rtol=1e-9, atol=1e-9)


def test_member_inputs_are_the_inputs_each_member_draws_alone():
    images = torch.randn(30, 3, 8, 8)
    index = torch.as_tensor(np.random.default_rng(0).integers(0, 30, size=(3, 5)))
    noise = torch.tensor([0.1, 0.2, 0.3]).reshape(-1, 1, 1)
    for padding, hflip in [(2, True), (0, True), (2, False), (0, False)]:
        x = member_inputs(images, index, padding, hflip,
                          [torch.Generator().manual_seed(s) for s in range(3)], noise)
        assert x.shape == (5, 3, 3, 8, 8)
        for k in range(3):
            g = torch.Generator().manual_seed(k)
            alone = random_crop_flip(images[index[k]], padding, hflip, g)
            alone = alone + torch.randn(alone.shape, generator=g) * noise
            assert torch.equal(x[:, k], alone)


class _ChannelConcat(nn.Module):
    """Concatenates two branches along channels: breaks the stacked layout without raising."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 2, 3, padding=1)
        self.b = nn.Conv2d(3, 2, 3, padding=1)
        self.head = nn.Linear(4, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.a(x), self.b(x)], dim=1).mean(dim=(2, 3)))


class _WithLayerNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(3 * SIZE * SIZE)
        self.head = nn.Linear(3 * SIZE * SIZE, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(x.flatten(1)))


@pytest.mark.parametrize("factory", [_ChannelConcat, _WithLayerNorm])
def test_networks_without_a_stacked_form_fall_back_to_vmap(factory):
    x, y = prototype_images(4, 1.0, seed=8)
    train = TrainScale(epochs=1, batch_size=4, max_lr=0.05, width=0.125, crop_padding=0)
    masks = np.ones((2, len(y)), bool)
    ensemble = train_ensemble(factory, x, y, masks, train, [0, 1])
    assert ensemble.stacked is None
    assert ensemble.logits(x).shape == (2, len(y), CLASSES)
    with pytest.raises(ValueError, match="stacked"):
        train_ensemble(factory, x, y, masks, train, [0, 1], method="stacked")


def test_eval_mode_uses_each_members_own_batchnorm_statistics():
    x, y = prototype_images(24, 0.8, seed=3)
    x_test, y_test = prototype_images(10, 0.8, seed=4)
    masks = equal_size_masks(4, len(y), 64, seed=5)
    train = TrainScale(epochs=10, batch_size=16, max_lr=0.05, width=0.125, crop_padding=0,
                       hflip=False)
    ensemble = train_ensemble(resnet, x, y, masks, train, seeds=[1, 2, 3, 4])
    running = ensemble.buffers["bn1.running_mean"]
    assert running.shape[0] == 4
    assert not torch.allclose(running[0], running[1])  # own statistics, not shared
    logits = ensemble.logits(x_test)
    for k in range(4):
        member = ensemble.member(k)
        assert not member.training
        torch.testing.assert_close(member(x_test), logits[k], rtol=1e-4, atol=1e-5)
    # Eval-mode predictions are sensible: the easy task is solved by every member.
    accuracy = (ensemble.predict(x_test) == y_test.numpy()[None]).mean(axis=1)
    assert np.all(accuracy >= 0.9), accuracy


def test_each_member_walks_only_its_own_subset_in_its_own_order():
    masks = np.zeros((3, 20), dtype=bool)
    masks[0, :10] = True
    masks[1, 5:17] = True
    masks[2, ::2] = True
    batches = member_batches(masks, epochs=2, batch_size=4, seeds=[0, 1, 2])
    assert batches.shape == (6, 3, 4)  # ceil(2 * 12 / 4) steps
    for k in range(3):
        seen = batches[:, k, :].ravel()
        assert set(seen) <= set(np.flatnonzero(masks[k]))
        size = masks[k].sum()
        # The first |subset| draws are one full pass over the subset.
        assert sorted(seen[:size]) == sorted(np.flatnonzero(masks[k]))
    assert not np.array_equal(batches[:, 0, :].ravel()[:10], np.arange(10))  # shuffled


def test_bad_arguments_are_rejected():
    x, y = prototype_images(2, 1.0, seed=0)
    train = TrainScale(epochs=1, batch_size=4, max_lr=0.05, width=0.125)
    with pytest.raises(ValueError, match="masks must have shape"):
        train_ensemble(resnet, x, y, np.ones((2, len(y) + 1), bool), train, [0, 1])
    with pytest.raises(ValueError, match="one seed per member"):
        train_ensemble(resnet, x, y, np.ones((2, len(y)), bool), train, [0])
    masks = np.ones((2, len(y)), bool)
    masks[1] = False
    with pytest.raises(ValueError, match="non-empty training subset"):
        train_ensemble(resnet, x, y, masks, train, [0, 1])
    with pytest.raises(ValueError, match="unknown method"):
        train_ensemble(resnet, x, y, np.ones((2, len(y)), bool), train, [0, 1], method="loop")
    ensemble = train_ensemble(resnet, x, y, np.ones((1, len(y)), bool), train, [0])
    with pytest.raises(ValueError, match="member index 1"):
        ensemble.member(1)


def test_batches_never_exceed_the_smallest_subset():
    masks = np.zeros((2, 20), dtype=bool)
    masks[0, :3] = True
    masks[1, 5:17] = True
    batches = member_batches(masks, epochs=2, batch_size=8, seeds=[0, 1])
    assert batches.shape == (8, 2, 3)  # batches of 3, ceil(2 * 12 / 3) steps
    assert all(len(set(b)) == 3 for b in batches[:, 0, :])  # the 3 examples, each once
