"""Vision Transformer on torchvision's ``VisionTransformer`` (Appendix, Fig. A.9).

Presets: ``config="b16"`` is ViT-B/16 (patch 16, 12 blocks, hidden 768, 12 heads, MLP 3072,
224x224: smaller inputs are resized bilinearly to 224 inside the model); ``config="small"`` (patch 4
on the stem's native input size, 4 blocks, hidden 64, 4 heads) trains on a CPU. ``blocks``,
``hidden``, ``heads``, ``patch`` and ``image_size`` override a preset; ``width`` scales the hidden
size (kept a multiple of ``heads``); the MLP is 4x the hidden size. ``stem`` only sets the input
size (32 for "cifar", 84 for "mini-imagenet").

``pretrained`` names a local checkpoint (torchvision's or timm's ViT key names) to start from, as
the appendix's ImageNet-pretrained (SAM) ViT-B/16; the head is re-initialised when the number of
classes differs (:mod:`modes.components.backbones.pretrained`). The spec records the file's path
and sha256; without one the model is trained from scratch.

Taps (paper): the class token at the end of each encoder block (pooling kind ``"cls"``).
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

from modes.components.backbones.base import (
    STEM_INPUT_SIZE,
    BackboneSpec,
    InputResize,
    TappedNetwork,
    check_common,
    transformer_geometry,
)
from modes.components.backbones.pretrained import pretrained_options, timm_vit_to_torchvision
from modes.registry import register

CONFIGS: dict[str, dict[str, int]] = {
    "small": {"patch": 4, "blocks": 4, "hidden": 64, "heads": 4},
    "b16": {"patch": 16, "blocks": 12, "hidden": 768, "heads": 12, "image_size": 224},
}


@register("backbone", "vit")
def build_vit(num_classes: int, width: float = 1.0, stem: str = "cifar", *, config: str = "b16",
              blocks: int | None = None, hidden: int | None = None, heads: int | None = None,
              patch: int | None = None, image_size: int | None = None,
              pretrained: str | None = None, pretrained_sha256: str | None = None,
              **kw: Any) -> TappedNetwork:
    """ViT (torchvision); taps ``encoder.layers.encoder_layer_<i>`` class tokens."""
    if kw:
        raise ValueError(f"vit takes no options {sorted(kw)}")
    check_common(num_classes, width, stem)
    g = transformer_geometry(stem, config, CONFIGS, {"blocks": blocks, "hidden": hidden,
                             "heads": heads, "patch": patch, "image_size": image_size}, width)
    vit = VisionTransformer(image_size=g["image_size"], patch_size=g["patch"],
                            num_layers=g["blocks"], num_heads=g["heads"], hidden_dim=g["hidden"],
                            mlp_dim=4 * g["hidden"], num_classes=num_classes)
    net: nn.Module = vit
    prefix = ""
    if g["image_size"] != STEM_INPUT_SIZE[stem]:
        net, prefix = InputResize(vit, g["image_size"]), "net."
    nodes = tuple(f"{prefix}encoder.layers.encoder_layer_{i}" for i in range(g["blocks"]))
    given = {"config": config, "blocks": blocks, "hidden": hidden, "heads": heads, "patch": patch,
             "image_size": image_size}
    options: tuple[tuple[str, int | float | str], ...] = tuple(
        sorted((k, v) for k, v in given.items() if v is not None))
    options += pretrained_options(vit, pretrained, pretrained_sha256, ("heads.",),
                                  timm_vit_to_torchvision, f"vit (config {config!r}, {g})")
    spec = BackboneSpec("vit", num_classes, width, stem, options)
    return TappedNetwork(spec, net, nodes, ("cls",) * len(nodes))
