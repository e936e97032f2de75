"""The paper's control (Appendix, Fig. A.8): a plain, non-residual 8-layer convolutional network.

Eight 3x3 conv + BatchNorm + ReLU layers with widths 64, 64, 128, 128, 256, 256, 512, 512 (times
``width``); layers 3, 5 and 7 halve the spatial size with stride 2, like the four ResNet stages.
The first layer is the stem (stride 1 for 32x32 CIFAR, stride 3 / padding 6 for 84x84). Global
average pooling and a linear head follow. Taps: every layer's ReLU output, global-average-pooled.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from modes.components.backbones.base import (
    BackboneSpec,
    TappedNetwork,
    check_common,
    scaled,
    stem_conv,
)
from modes.registry import register

WIDTHS = (64, 64, 128, 128, 256, 256, 512, 512)
STRIDES = (1, 1, 2, 1, 2, 1, 2, 1)


class PlainCNN(nn.Module):
    def __init__(self, num_classes: int, width: float, stem: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for i, (channels, stride) in enumerate(zip(WIDTHS, STRIDES, strict=True)):
            out = scaled(channels, width)
            conv = (stem_conv(out, stem) if i == 0 else
                    nn.Conv2d(in_channels, out, 3, stride=stride, padding=1, bias=False))
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            layers.append(nn.Sequential(conv, nn.BatchNorm2d(out), nn.ReLU(inplace=True)))
            in_channels = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.fc(self.features(x).mean(dim=(2, 3)))
        return logits


@register("backbone", "plain_cnn")
def build_plain_cnn(num_classes: int, width: float = 1.0, stem: str = "cifar",
                    **kw: Any) -> TappedNetwork:
    """Plain 8-layer CNN; taps ``features.0`` .. ``features.7`` (after each ReLU)."""
    if kw:
        raise ValueError(f"plain_cnn takes no options {sorted(kw)}")
    check_common(num_classes, width, stem)
    net = PlainCNN(num_classes, width, stem)
    nodes = tuple(f"features.{i}" for i in range(len(WIDTHS)))
    spec = BackboneSpec("plain_cnn", num_classes, width, stem)
    return TappedNetwork(spec, net, nodes, ("gap",) * len(nodes))
