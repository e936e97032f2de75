"""What every backbone factory returns: a network plus the nodes to tap and how to pool them."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import torch
import torch.nn.functional as F
from torch import nn

STEMS = ("cifar", "mini-imagenet")
STEM_INPUT_SIZE = {"cifar": 32, "mini-imagenet": 84}
TAP_KINDS = ("gap", "cls", "tokens")


@attrs.frozen
class BackboneSpec:
    """Everything that determines an (untrained) architecture; part of every training cache key.

    ``registry.create("backbone", name, num_classes=..., width=..., stem=..., **dict(options))``
    rebuilds the architecture (:func:`rebuild`).
    """

    name: str
    num_classes: int
    width: float
    stem: str
    options: tuple[tuple[str, int | float | str], ...] = ()


@attrs.frozen(eq=False)
class TappedNetwork:
    """A classifier ``net`` (satisfies :class:`~modes.components.protocols.Backbone`)."""

    spec: BackboneSpec
    net: nn.Module
    nodes: tuple[str, ...]
    kinds: tuple[str, ...]

    def __attrs_post_init__(self) -> None:
        if len(self.nodes) != len(self.kinds) or not self.nodes:
            raise ValueError(f"need one tap kind per node, got {self.nodes} / {self.kinds}")
        unknown = set(self.kinds) - set(TAP_KINDS)
        if unknown:
            raise ValueError(f"unknown tap kinds {sorted(unknown)}; known: {list(TAP_KINDS)}")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    def module(self) -> nn.Module:
        return self.net

    def tap_nodes(self) -> Sequence[str]:
        return self.nodes

    def tap_kinds(self) -> Sequence[str]:
        return self.kinds


def check_common(num_classes: int, width: float, stem: str) -> None:
    """Validate the arguments every factory shares."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width}")
    if stem not in STEMS:
        raise ValueError(f"unknown stem {stem!r}; known stems: {list(STEMS)}")


def scaled(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, at least 1."""
    return max(1, round(channels * width))


def stem_for(image_size: int) -> str:
    """The stem that maps ``image_size`` inputs to 32x32 feature maps (32 -> cifar, 84 -> mini)."""
    for stem, size in STEM_INPUT_SIZE.items():
        if size == image_size:
            return stem
    raise ValueError(f"no stem for image_size={image_size}; known: {STEM_INPUT_SIZE}")


def stem_conv(out_channels: int, stem: str) -> nn.Conv2d:
    """3x3 stem conv: stride 1 / padding 1 (CIFAR, 32->32) or stride 3 / padding 6 (84->32)."""
    stride, padding = (1, 1) if stem == "cifar" else (3, 6)
    conv = nn.Conv2d(3, out_channels, kernel_size=3, stride=stride, padding=padding, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    return conv


class InputResize(nn.Module):
    """Bilinearly resizes inputs to ``size`` before ``net`` (e.g. 32x32 images into B/16 (224))."""

    def __init__(self, net: nn.Module, size: int) -> None:
        super().__init__()
        self.size = size
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        out: torch.Tensor = self.net(x)
        return out


def transformer_geometry(stem: str, config: str, configs: dict[str, dict[str, int]],
                         overrides: dict[str, int | None], width: float) -> dict[str, int]:
    """Resolve a transformer config: preset, then overrides, hidden size scaled by ``width``.

    ``image_size`` defaults to the stem's input size (32 or 84) for small presets; presets that fix
    ``image_size`` (B/16: 224) get an :class:`InputResize` from the caller.
    """
    if config not in configs:
        raise ValueError(f"unknown config {config!r}; known configs: {sorted(configs)}")
    geometry = dict(configs[config])
    geometry.setdefault("image_size", STEM_INPUT_SIZE[stem])
    for key, value in overrides.items():
        if value is not None:
            if value < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
            geometry[key] = value
    heads = geometry["heads"]
    geometry["hidden"] = max(heads, round(geometry["hidden"] * width / heads) * heads)
    if geometry["image_size"] % geometry["patch"]:
        raise ValueError(
            f"image_size={geometry['image_size']} is not a multiple of patch={geometry['patch']}"
        )
    return geometry


def rebuild(spec: BackboneSpec) -> TappedNetwork:
    """A freshly initialised network of the architecture ``spec`` (uses torch's global RNG)."""
    from modes import registry

    built: TappedNetwork = registry.create("backbone", spec.name, num_classes=spec.num_classes,
                                           width=spec.width, stem=spec.stem, **dict(spec.options))
    return built
