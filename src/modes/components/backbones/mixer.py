"""MLP-Mixer on timm's ``MlpMixer`` (Appendix, Fig. A.10).

Presets: ``config="b16"`` is Mixer-B/16 (patch 16, 12 blocks, hidden 768, 224x224: smaller inputs
are resized bilinearly to 224 inside the model); ``config="small"`` (patch 4 on the stem's native
input size, 4 blocks, hidden 64) trains on a CPU. ``blocks``, ``hidden``, ``patch`` and
``image_size`` override a preset; ``width`` scales the hidden size; token / channel MLP ratios are
timm's (0.5, 4). ``stem`` only sets the input size (32 for "cifar", 84 for "mini-imagenet").

``pretrained`` names a local checkpoint (timm's ``MlpMixer`` key names) to start from, as the
appendix's ImageNet-pretrained (SAM) Mixer-B/16; the head is re-initialised when the number of
classes differs (:mod:`modes.components.backbones.pretrained`). The spec records the file's path
and sha256; without one the model is trained from scratch.

Taps (paper): the output of each mixer block, averaged over tokens (pooling kind ``"tokens"``),
the same pooling that forms the input of the classification head.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from modes.components.backbones.base import (
    STEM_INPUT_SIZE,
    BackboneSpec,
    InputResize,
    TappedNetwork,
    check_common,
    transformer_geometry,
)
from modes.components.backbones.pretrained import pretrained_options
from modes.registry import register

CONFIGS: dict[str, dict[str, int]] = {
    "small": {"patch": 4, "blocks": 4, "hidden": 64, "heads": 1},
    "b16": {"patch": 16, "blocks": 12, "hidden": 768, "heads": 1, "image_size": 224},
}


@register("backbone", "mixer")
def build_mixer(num_classes: int, width: float = 1.0, stem: str = "cifar", *, config: str = "b16",
                blocks: int | None = None, hidden: int | None = None, patch: int | None = None,
                image_size: int | None = None, pretrained: str | None = None,
                pretrained_sha256: str | None = None, **kw: Any) -> TappedNetwork:
    """MLP-Mixer (timm); taps ``blocks.<i>`` averaged over tokens."""
    if kw:
        raise ValueError(f"mixer takes no options {sorted(kw)}")
    from timm.models.mlp_mixer import MlpMixer  # timm is slow to import; only the mixer needs it

    check_common(num_classes, width, stem)
    g = transformer_geometry(stem, config, CONFIGS, {"blocks": blocks, "hidden": hidden,
                             "patch": patch, "image_size": image_size}, width)
    mixer = MlpMixer(num_classes=num_classes, img_size=g["image_size"], patch_size=g["patch"],
                     num_blocks=g["blocks"], embed_dim=g["hidden"])
    net: nn.Module = mixer
    prefix = ""
    if g["image_size"] != STEM_INPUT_SIZE[stem]:
        net, prefix = InputResize(mixer, g["image_size"]), "net."
    nodes = tuple(f"{prefix}blocks.{i}" for i in range(g["blocks"]))
    given = {"config": config, "blocks": blocks, "hidden": hidden, "patch": patch,
             "image_size": image_size}
    options: tuple[tuple[str, int | float | str], ...] = tuple(
        sorted((k, v) for k, v in given.items() if v is not None))
    options += pretrained_options(mixer, pretrained, pretrained_sha256, ("head.",),
                                  what=f"mixer (config {config!r}, {g})")
    spec = BackboneSpec("mixer", num_classes, width, stem, options)
    return TappedNetwork(spec, net, nodes, ("tokens",) * len(nodes))
