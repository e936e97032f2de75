"""ResNet18 / ResNet50 on torchvision's implementation, with CIFAR or Mini-ImageNet stems.

Stems (paper, "Experimental setup"): a 3x3 conv with stride 1 and padding 1 and no max-pool for
32x32 CIFAR images, and a 3x3 conv with stride 3 and padding 6 (84x84 -> 32x32) for Mini-ImageNet.
``width`` multiplies every stage width (64, 128, 256, 512 -> e.g. 8, 16, 32, 64 at 0.125).

``zero_init_residual`` (default True, as the authors' ``src/models/resnet.py``, which builds
torchvision's ResNets with ``zero_init_residual=True``) zeroes the last BatchNorm gamma of every
residual block at initialisation, so each block starts as the identity; it is recorded in the
:class:`BackboneSpec` (and so in every training cache key).

Taps (Eq. 1, Fig. A.5): the output of each of the four stages, i.e. the last block's ReLU right
after its residual summation (torchvision node ``layerS.<last block>.relu_<k>``), globally
average-pooled. The stage-4 tap is exactly the input of the classification head.
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torchvision.models.feature_extraction import get_graph_node_names
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from modes.components.backbones.base import (
    BackboneSpec,
    TappedNetwork,
    check_common,
    scaled,
    stem_conv,
)
from modes.registry import register


class ScaledResNet(ResNet):  # type: ignore[misc]  # torchvision ships no type information
    """torchvision ResNet whose stage widths are scaled by ``width`` and whose stem is replaced."""

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int], num_classes: int,
                 width: float, stem: str, zero_init_residual: bool = True) -> None:
        self._width = width
        super().__init__(block, layers, num_classes=num_classes,
                         zero_init_residual=zero_init_residual)
        self.conv1 = stem_conv(scaled(64, width), stem)
        self.bn1 = nn.BatchNorm2d(scaled(64, width))
        self.maxpool = nn.Identity()
        self.fc = nn.Linear(scaled(512, width) * block.expansion, num_classes)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int,
                    stride: int = 1, dilate: bool = False) -> nn.Sequential:
        if planes == 64:  # first stage: its input is the (scaled) stem output
            self.inplanes = scaled(64, self._width)
        layer: nn.Sequential = super()._make_layer(block, scaled(planes, self._width), blocks,
                                                   stride, dilate)
        return layer


def stage_nodes(net: nn.Module, stages: int = 4) -> tuple[str, ...]:
    """Graph node names of the last operation of ``layer1..layer{stages}`` (post-add ReLU)."""
    _, eval_nodes = get_graph_node_names(net)
    return tuple(
        [n for n in eval_nodes if n.startswith(f"layer{s}.")][-1] for s in range(1, stages + 1)
    )


def _build(name: str, block: type[BasicBlock | Bottleneck], layers: list[int], num_classes: int,
           width: float, stem: str, zero_init_residual: bool,
           kw: dict[str, Any]) -> TappedNetwork:
    if kw:
        raise ValueError(f"{name} takes no options {sorted(kw)}")
    if not isinstance(zero_init_residual, bool | int) or zero_init_residual not in (0, 1):
        raise ValueError(f"zero_init_residual must be True or False, got {zero_init_residual!r}")
    check_common(num_classes, width, stem)
    net = ScaledResNet(block, layers, num_classes, width, stem, bool(zero_init_residual))
    nodes = stage_nodes(net)
    spec = BackboneSpec(name, num_classes, width, stem,
                        (("zero_init_residual", bool(zero_init_residual)),))
    return TappedNetwork(spec, net, nodes, ("gap",) * 4)


@register("backbone", "resnet18")
def build_resnet18(num_classes: int, width: float = 1.0, stem: str = "cifar", *,
                   zero_init_residual: bool = True, **kw: Any) -> TappedNetwork:
    """ResNet18 (BasicBlock, [2, 2, 2, 2])."""
    return _build("resnet18", BasicBlock, [2, 2, 2, 2], num_classes, width, stem,
                  zero_init_residual, kw)


@register("backbone", "resnet50")
def build_resnet50(num_classes: int, width: float = 1.0, stem: str = "cifar", *,
                   zero_init_residual: bool = True, **kw: Any) -> TappedNetwork:
    """ResNet50 (Bottleneck, [3, 4, 6, 3]); stage widths 256..2048 at width 1."""
    return _build("resnet50", Bottleneck, [3, 4, 6, 3], num_classes, width, stem,
                  zero_init_residual, kw)
