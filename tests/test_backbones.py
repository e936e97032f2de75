"""Backbones: stems, widths, registry, and every architecture at paper size on the CPU."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch
from torchvision.models.resnet import BasicBlock, Bottleneck

from modes import registry
from modes.components.backbones import stem_for
from modes.components.backbones.base import rebuild
from modes.components.protocols import Backbone
from modes.components.taps import extract_representations
from modes.data import ImageDataset
from modes.scale import FULL
from modes.training import train_classifier
from modes.training.ensemble import architecture_key

torch.set_num_threads(1)
SMALL = {"vit": {"config": "small"}, "mixer": {"config": "small"}}


def test_all_backbones_registered() -> None:
    assert {"resnet18", "resnet50", "plain_cnn", "vit", "mixer"} <= set(registry.names("backbone"))


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "plain_cnn"])
@pytest.mark.parametrize(("stem", "size"), [("cifar", 32), ("mini-imagenet", 84)])
def test_stem_maps_input_to_32(name: str, stem: str, size: int) -> None:
    bb = registry.create("backbone", name, num_classes=5, width=0.125, stem=stem)
    net = bb.module().eval()
    first = net.conv1 if name != "plain_cnn" else net.features[0][0]
    with torch.no_grad():
        assert first(torch.zeros(2, 3, size, size)).shape[-2:] == (32, 32)
        assert net(torch.zeros(2, 3, size, size)).shape == (2, 5)
    assert stem_for(size) == stem


@pytest.mark.parametrize(("name", "channels"), [("resnet18", [8, 16, 32, 64]),
                                                ("resnet50", [32, 64, 128, 256])])
def test_width_multiplier_scales_every_stage(name: str, channels: list[int]) -> None:
    bb = registry.create("backbone", name, num_classes=3, width=0.125)
    reps = extract_representations(bb, torch.randn(2, 3, 32, 32))
    assert [r.shape[1] for r in reps.values()] == channels
    assert isinstance(bb, Backbone) and bb.num_classes == 3 and bb.name == name


def residual_gammas(net: torch.nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per residual block, the gamma of its last BatchNorm and the gammas of the others."""
    last, others = [], []
    for block in net.modules():
        if isinstance(block, BasicBlock | Bottleneck):
            norms = [block.bn1, block.bn2] + ([block.bn3] if isinstance(block, Bottleneck) else [])
            last.append(norms[-1].weight.detach())
            others += [bn.weight.detach() for bn in norms[:-1]]
    return last, others


@pytest.mark.parametrize(("name", "blocks"), [("resnet18", 8), ("resnet50", 16)])
def test_resnets_zero_init_residual_as_the_authors(name: str, blocks: int) -> None:
    """The authors build torchvision ResNets with zero_init_residual=True: the last BN gamma of
    every residual block is zero at initialisation (each block starts as the identity)."""
    bb = registry.create("backbone", name, num_classes=3, width=0.125)
    last, others = residual_gammas(bb.module())
    assert len(last) == blocks
    assert all(torch.all(g == 0) for g in last)
    assert all(torch.all(g == 1) for g in others)
    assert dict(bb.spec.options)["zero_init_residual"] is True  # recorded in the spec
    again = rebuild(bb.spec)
    assert all(torch.all(g == 0) for g in residual_gammas(again.module())[0])

    plain = registry.create("backbone", name, num_classes=3, width=0.125,
                            zero_init_residual=False)
    assert all(torch.all(g == 1) for g in residual_gammas(plain.module())[0])
    assert dict(plain.spec.options)["zero_init_residual"] is False
    assert plain.spec != bb.spec  # so the two never share a training cache entry
    keys = {z: architecture_key(lambda z=z: registry.create(
        "backbone", name, num_classes=3, width=0.125, zero_init_residual=z), 0)
        for z in (True, False)}
    assert keys[True] != keys[False]  # nor a memorization / density-bin cache entry
    with pytest.raises(ValueError, match="zero_init_residual"):
        registry.create("backbone", name, num_classes=3, zero_init_residual="yes")


@pytest.mark.parametrize("name", ["vit", "mixer"])
def test_small_transformers_run(name: str) -> None:
    bb = registry.create("backbone", name, num_classes=4, **SMALL[name])
    with torch.no_grad():
        assert bb.module()(torch.randn(2, 3, 32, 32)).shape == (2, 4)
    assert len(bb.tap_nodes()) == 4


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="stem"):
        registry.create("backbone", "resnet18", num_classes=3, stem="imagenet")
    with pytest.raises(ValueError, match="width"):
        registry.create("backbone", "plain_cnn", num_classes=3, width=0)
    with pytest.raises(ValueError, match="config"):
        registry.create("backbone", "vit", num_classes=3, config="huge")
    with pytest.raises(ValueError, match="options"):
        registry.create("backbone", "resnet18", num_classes=3, depth=34)


PAPER_SIZE = [
    ("resnet50", {}, 32, [256, 512, 1024, 2048]),
    ("resnet18", {"stem": "mini-imagenet"}, 84, [64, 128, 256, 512]),
    ("plain_cnn", {}, 32, [64, 64, 128, 128, 256, 256, 512, 512]),
    ("vit", {"config": "b16"}, 32, [768] * 12),
    ("mixer", {"config": "b16"}, 32, [768] * 12),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options", "size", "dims"), PAPER_SIZE,
                         ids=[p[0] for p in PAPER_SIZE])
def test_full_profile_builds_trains_one_step_and_taps(name, options, size, dims) -> None:
    """Paper-size networks (100 classes, width 1) take one real training step and tap all stages."""
    bb = registry.create("backbone", name, num_classes=100, width=FULL.train.width, **options)
    pixels = torch.randint(0, 256, (2, 3, size, size), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    data = ImageDataset(name="tiny", num_classes=100, train_pixels=pixels,
                        train_labels=torch.tensor([3, 97]), test_pixels=pixels[:1],
                        test_labels=torch.tensor([3]))
    images = data.train_images.normalise()
    one_step = attrs.evolve(FULL.train, epochs=1)  # batch 512 > 2 images: a single step
    model = train_classifier(bb, data, one_step, seed=0, progress=False)
    before = dict(bb.module().named_parameters())
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert changed  # the step moved the weights of a fresh, seeded initialisation
    reps = extract_representations(bb, images, model=model)
    assert list(reps) == list(bb.tap_nodes())
    assert [r.shape for r in reps.values()] == [(2, d) for d in dims]
    assert all(np.isfinite(r).all() for r in reps.values())
