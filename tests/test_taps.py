"""Feature taps (Eq. 1): what is tapped, pooled how, in one pass, cached through the store."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modes import registry
from modes.components.backbones.base import BackboneSpec, TappedNetwork
from modes.components.taps import GraphTap, average_pool, extract_representations
from modes.store import ArtifactStore

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def resnet() -> TappedNetwork:
    torch.manual_seed(0)
    return registry.create("backbone", "resnet18", num_classes=5, width=0.125)


def test_resnet_taps_are_stage_outputs_after_the_residual_sum(resnet) -> None:
    nodes = resnet.tap_nodes()
    assert nodes == ("layer1.1.relu_1", "layer2.1.relu_1", "layer3.1.relu_1", "layer4.1.relu_1")
    net = resnet.module().eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        h = net.relu(net.bn1(net.conv1(x)))
        stages = []
        for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
            h = layer(h)
            stages.append(h.mean(dim=(2, 3)))
        taps = GraphTap(resnet)(x)
        head_input = torch.flatten(net.avgpool(h), 1)
    shapes = [(3, 8), (3, 16), (3, 32), (3, 64)]
    assert [t.shape for t in taps.values()] == [torch.Size(s) for s in shapes]
    for tap, manual in zip(taps.values(), stages, strict=True):
        torch.testing.assert_close(tap, manual)
    torch.testing.assert_close(taps[nodes[-1]], head_input)  # stage 4 = input of the head


def test_plain_cnn_taps_every_layer() -> None:
    bb = registry.create("backbone", "plain_cnn", num_classes=5, width=0.125)
    reps = extract_representations(bb, torch.randn(2, 3, 32, 32))
    assert [r.shape for r in reps.values()] == [(2, c) for c in (8, 8, 16, 16, 32, 32, 64, 64)]


def test_vit_taps_class_token_of_each_block() -> None:
    bb = registry.create("backbone", "vit", num_classes=5, config="small", blocks=2)
    vit = bb.module().eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens = vit._process_input(x)
        tokens = torch.cat([vit.class_token.expand(2, -1, -1), tokens], dim=1)
        h = vit.encoder.dropout(tokens + vit.encoder.pos_embedding)
        expected = []
        for block in vit.encoder.layers:
            h = block(h)
            expected.append(h[:, 0])
        taps = GraphTap(bb)(x)
    for tap, manual in zip(taps.values(), expected, strict=True):
        torch.testing.assert_close(tap, manual)


def test_mixer_taps_token_average_of_each_block() -> None:
    bb = registry.create("backbone", "mixer", num_classes=5, config="small", blocks=2)
    mixer = bb.module().eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        h = mixer.stem(x)
        expected = []
        for block in mixer.blocks:
            h = block(h)
            expected.append(h.mean(dim=1))
        taps = GraphTap(bb)(x)
    for tap, manual in zip(taps.values(), expected, strict=True):
        torch.testing.assert_close(tap, manual)


def test_average_pool_is_eq1() -> None:
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    torch.testing.assert_close(average_pool(maps), maps.flatten(2).mean(-1))
    with pytest.raises(ValueError, match="maps"):
        average_pool(torch.zeros(2, 3))


def test_batching_and_mode_do_not_change_representations(resnet) -> None:
    x = torch.randn(7, 3, 32, 32)
    net = resnet.module().train()
    small = extract_representations(resnet, x, batch_size=3)
    large = extract_representations(resnet, x, batch_size=100)
    assert net.training  # restored
    for node in resnet.tap_nodes():
        np.testing.assert_allclose(small[node], large[node], rtol=1e-5, atol=1e-6)
        assert small[node].dtype == np.float32


def test_cached_through_the_store(resnet, tmp_path) -> None:
    store = ArtifactStore(tmp_path)
    x = torch.randn(4, 3, 32, 32)
    first = extract_representations(resnet, x, store=store, model_key="m1")
    assert len(list((tmp_path / "representations").glob("*.npz"))) == 1
    again = extract_representations(resnet, x, store=store, model_key="m1")
    for node in resnet.tap_nodes():
        np.testing.assert_array_equal(first[node], again[node])
    extract_representations(resnet, x[:2], store=store, model_key="m1")
    assert len(list((tmp_path / "representations").glob("*.npz"))) == 2  # images are in the key


def test_unknown_tap_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="tap kinds"):
        TappedNetwork(BackboneSpec("x", 2, 1.0, "cifar"), torch.nn.Identity(), ("a",), ("max",))
