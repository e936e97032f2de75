"""Pretrained transformer weights from a local file: round trip, head re-initialisation for a new
label set, timm key names, clear errors for a file that does not fit, and the record."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from modes import registry
from modes.components.backbones.base import TappedNetwork, rebuild
from modes.components.backbones.pretrained import file_sha256, initialization, read_state_dict
from modes.scale import SMOKE
from modes.scenario import Scenario, ScenarioConfig, parse_pretrained
from modes.store import ArtifactStore

torch.set_num_threads(1)

SMALL = {"config": "small", "blocks": 2, "hidden": 16}
HEAD = {"vit": "heads.head.", "mixer": "head."}


def build(name: str, seed: int, num_classes: int = 5, **options: object) -> TappedNetwork:
    torch.manual_seed(seed)
    net: TappedNetwork = registry.create("backbone", name, num_classes=num_classes,
                                         **{**SMALL, **options})
    return net


def perturbed(bb: TappedNetwork) -> TappedNetwork:
    """``bb`` with weights no initialisation gives (the heads start at zero)."""
    with torch.no_grad():
        for p in bb.module().parameters():
            p.add_(torch.randn_like(p))
    return bb


def state(bb: TappedNetwork) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in bb.module().state_dict().items()}


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor],
                skip: str | None = None) -> None:
    keys = [k for k in a if skip is None or not k.startswith(skip)]
    assert keys and set(keys) <= set(b)
    for k in keys:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("name", ["vit", "mixer"])
def test_a_model_built_from_a_saved_state_dict_has_exactly_those_weights(
        name: str, tmp_path: Path) -> None:
    source = perturbed(build(name, seed=1))
    path = tmp_path / f"{name}.pth"
    torch.save(source.module().state_dict(), path)
    loaded = build(name, seed=2, pretrained=str(path))
    fresh = build(name, seed=2)
    assert not any(torch.equal(v, state(source)[k]) for k, v in state(fresh).items()
                   if v.is_floating_point() and v.numel() > 1)
    assert_same(state(source), state(loaded))
    assert set(state(loaded)) == set(state(source))
    options = dict(loaded.spec.options)
    assert options["pretrained"] == str(path.resolve())
    assert options["pretrained_sha256"] == file_sha256(path)
    assert initialization(options).startswith(f"pretrained weights from {path.resolve()}")
    assert initialization(dict(fresh.spec.options)) == "trained from scratch"
    torch.manual_seed(3)  # a recorded spec rebuilds the same pretrained model (training path)
    assert_same(state(source), state(rebuild(loaded.spec)))


@pytest.mark.parametrize("name", ["vit", "mixer"])
def test_the_head_is_reinitialised_for_a_new_label_set(name: str, tmp_path: Path) -> None:
    source = perturbed(build(name, seed=1, num_classes=10))  # e.g. an ImageNet head
    path = tmp_path / "ten_classes.pth"
    torch.save(source.module().state_dict(), path)
    loaded = build(name, seed=2, num_classes=5, pretrained=str(path))
    fresh = build(name, seed=2, num_classes=5)
    assert_same(state(source), state(loaded), skip=HEAD[name])  # every body weight loaded
    head = {k: v for k, v in state(fresh).items() if k.startswith(HEAD[name])}
    assert head and all(torch.equal(v, state(loaded)[k]) for k, v in head.items())


def test_a_mismatched_file_names_the_missing_and_unexpected_keys(tmp_path: Path) -> None:
    weights = state(build("vit", seed=1))
    del weights["encoder.ln.weight"]
    weights["encoder.extra_token"] = torch.zeros(3)
    path = tmp_path / "broken.pth"
    torch.save(weights, path)
    with pytest.raises(ValueError, match="does not fit vit") as err:
        build("vit", seed=2, pretrained=str(path))
    message = str(err.value)
    assert "missing keys encoder.ln.weight" in message
    assert "unexpected keys encoder.extra_token" in message


def test_a_differently_shaped_file_names_the_shapes(tmp_path: Path) -> None:
    path = tmp_path / "wider.pth"
    torch.save(build("mixer", seed=1, hidden=32).module().state_dict(), path)
    with pytest.raises(ValueError, match=r"shape mismatches .*blocks\.0\.norm1\.bias: file "
                                         r"\(32,\) vs model \(16,\).*\(26 in all\)"):
        build("mixer", seed=2, pretrained=str(path))


def test_timm_vit_checkpoints_load_into_the_torchvision_vit(tmp_path: Path) -> None:
    """A timm ViT's state dict (the layout of timm's SAM ViT-B/16) gives the same function."""
    from timm.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    timm_vit = VisionTransformer(img_size=32, patch_size=4, depth=2, num_heads=4, embed_dim=16,
                                 mlp_ratio=4.0, num_classes=5).eval()
    path = tmp_path / "timm_vit.safetensors"
    save_file({k: v.contiguous() for k, v in timm_vit.state_dict().items()}, str(path))
    ours = build("vit", seed=5, pretrained=str(path)).module().eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), timm_vit(x), atol=1e-5, rtol=1e-5)


def test_wrapped_and_prefixed_checkpoints_are_read(tmp_path: Path) -> None:
    weights = state(build("mixer", seed=1))
    path = tmp_path / "wrapped.pt"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in weights.items()}}, path)
    assert_same(weights, read_state_dict(path))
    assert_same(weights, state(build("mixer", seed=2, pretrained=str(path))))


def test_a_changed_or_absent_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "mixer.pth"
    torch.save(state(build("mixer", seed=1)), path)
    spec = build("mixer", seed=2, pretrained=str(path)).spec
    torch.save(state(build("mixer", seed=4)), path)
    with pytest.raises(ValueError, match="the file changed"):
        rebuild(spec)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        build("mixer", seed=2, pretrained=str(tmp_path / "absent.pth"))
    (tmp_path / "ViT-B_16.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"JAX \.npz"):
        build("vit", seed=2, pretrained=str(tmp_path / "ViT-B_16.npz"))


def test_the_scenario_fine_tunes_a_pretrained_transformer_and_says_so(tmp_path: Path) -> None:
    """--modes-pretrained vit=PATH: the ViT starts from the file and is fine-tuned with the scale's
    transformer_finetune; the Mixer, not named, is trained from scratch; cache requests differ."""
    plain = Scenario(ScenarioConfig(), ArtifactStore(tmp_path / "cache"))
    vit = plain.backbone("vit")
    path = tmp_path / "vit.pth"
    torch.save(vit.module().state_dict(), path)
    config = ScenarioConfig(pretrained=parse_pretrained(f"vit={path}"))
    tuned = Scenario(config, ArtifactStore(tmp_path / "cache"))
    assert tuned.pretrained_file("vit") == str(path) and tuned.pretrained_file("mixer") is None
    assert tuned.train_scale("vit") == SMOKE.transformer_finetune != SMOKE.train
    # a transformer from scratch: the profile's transformer_scratch (smoke sets it), a CNN train
    assert tuned.train_scale("mixer") == SMOKE.transformer_scratch != SMOKE.train
    assert tuned.train_scale(tuned.config.backbone) == SMOKE.train
    assert tuned.initialization("vit").startswith("pretrained weights from")
    assert tuned.initialization("mixer") == "trained from scratch"
    assert plain.initialization("vit") == "trained from scratch"
    assert_same(state(vit), state(tuned.backbone("vit")))
    assert tuned.representations_key("vit") != plain.representations_key("vit")
    assert tuned.representations_key("mixer") == plain.representations_key("mixer")
    with pytest.raises(ValueError, match="NAME=PATH"):
        parse_pretrained("vit")
