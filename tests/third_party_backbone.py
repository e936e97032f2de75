"""A backbone as a third-party package would ship it: a factory exposed through the
``modes.components`` entry-point group (the tests point a fake entry point here)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from torch import nn


@attrs.frozen
class TinyNet:
    num_classes: int
    width: float = 1.0
    name: str = "third_party_net"
    _net: nn.Module = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        c = max(4, int(16 * self.width))
        net = nn.Sequential()
        net.add_module("block1", nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.ReLU()))
        net.add_module("block2", nn.Sequential(nn.Conv2d(c, c, 3, stride=2, padding=1), nn.ReLU()))
        net.add_module("pool", nn.AdaptiveAvgPool2d(1))
        net.add_module("flat", nn.Flatten())
        net.add_module("fc", nn.Linear(c, self.num_classes))
        object.__setattr__(self, "_net", net)

    def module(self) -> nn.Module:
        return self._net

    def tap_nodes(self) -> Sequence[str]:
        return ("block1", "block2")

    def tap_kinds(self) -> Sequence[str]:
        return ("gap", "gap")


def build(num_classes: int, width: float = 1.0, stem: str = "cifar") -> TinyNet:
    if stem != "cifar":
        raise ValueError(f"third_party_net supports only the 'cifar' stem, got {stem!r}")
    return TinyNet(num_classes=num_classes, width=width)
