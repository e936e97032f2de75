"""Neural representations of inputs at every tapped layer (Eq. 1), in one forward pass.

:class:`GraphTap` turns a backbone into a ``torchvision.models.feature_extraction`` graph that
returns the outputs of the backbone's ``tap_nodes()`` (any node name of any traceable architecture)
and pools each as its ``tap_kinds()`` says: ``"gap"`` averages feature maps over the spatial
dimensions (Eq. 1), ``"cls"`` takes the class token, ``"tokens"`` averages over tokens. The graph
stops at the deepest tap, so the classification head is not evaluated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import attrs
import numpy as np
import torch
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

from modes import registry
from modes.components.protocols import Backbone, FeatureTap, TapFactory
from modes.data.streaming import Images, NormalisedImages
from modes.registry import ComponentKey, register
from modes.store import ArtifactStore

_POOL: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gap": lambda x: x.mean(dim=(2, 3)),
    "cls": lambda x: x[:, 0],
    "tokens": lambda x: x.mean(dim=1),
}


def average_pool(activations: torch.Tensor) -> torch.Tensor:
    """Eq. 1: ``nn_l(x) = [avg_pool(k_1^l(x)), ..., avg_pool(k_d^l(x))]`` for (B, d, H, W) maps."""
    if activations.ndim != 4:
        raise ValueError(f"expected (B, d, H, W) maps, got shape {tuple(activations.shape)}")
    return _POOL["gap"](activations)


@register("tap", "graph")
class GraphTap:
    """All of a backbone's taps in one forward pass, pooled to ``(B, d_l)`` per tapped node.

    ``model`` (default ``backbone.module()``) is a module of the backbone's architecture, e.g. the
    trained one returned by :func:`modes.training.fit.train_classifier`.
    """

    def __init__(self, backbone: Backbone, model: nn.Module | None = None) -> None:
        nodes, kinds = list(backbone.tap_nodes()), list(backbone.tap_kinds())
        unknown = set(kinds) - set(_POOL)
        if unknown:
            raise ValueError(f"unknown tap kinds {sorted(unknown)}; known: {sorted(_POOL)}")
        self.nodes = nodes
        self.kinds = dict(zip(nodes, kinds, strict=True))
        module = backbone.module() if model is None else model
        self.extractor = create_feature_extractor(module, {n: n for n in nodes})

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = self.extractor(images)
        return {n: _POOL[self.kinds[n]](outputs[n]).flatten(1) for n in self.nodes}


def tensor_fingerprint(x: torch.Tensor) -> str:
    """A content hash of a tensor (used in cache keys)."""
    data = np.ascontiguousarray(x.detach().cpu().numpy())
    digest = hashlib.blake2b(data.tobytes(), digest_size=12)
    digest.update(str((data.shape, data.dtype)).encode())
    return digest.hexdigest()


@attrs.frozen
class RepresentationsRequest:
    """The one request representations are stored under (kind ``"representations"``), whoever
    asks: the weights (``model``: the key of the trained weights,
    :func:`modes.training.fit.train_key`), the registered tap that pooled them, the tapped
    nodes and their pooling, and the images by content. The scenario and a direct
    :func:`extract_representations` call with the same weights and images share one entry."""

    model: str
    tap: ComponentKey
    nodes: tuple[str, ...]
    kinds: tuple[str, ...]
    images: str


def representations_request(backbone: Backbone, images: Images, model_key: str,
                            tap: str = "graph") -> RepresentationsRequest:
    """The store request of :func:`extract_representations`'s cached path."""
    return RepresentationsRequest(
        model=model_key, tap=registry.component("tap", tap).key(),
        nodes=tuple(backbone.tap_nodes()), kinds=tuple(backbone.tap_kinds()),
        images=(images.fingerprint if isinstance(images, NormalisedImages)
                else tensor_fingerprint(images)))


ModelSource = nn.Module | Callable[[], nn.Module]
"""A module, or a function returning one (called only when the representations are computed,
e.g. training on a cache miss)."""


def _extract(backbone: Backbone, model: ModelSource | None, images: Images,
             batch_size: int, tap_factory: TapFactory) -> dict[str, np.ndarray]:
    net = (backbone.module() if model is None
           else model if isinstance(model, nn.Module) else model())
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        tap: FeatureTap = tap_factory(backbone, net)
        chunks: dict[str, list[np.ndarray]] = {n: [] for n in backbone.tap_nodes()}
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                batch = images[start:start + batch_size].to(device)
                for node, rep in tap(batch).items():
                    chunks[node].append(rep.float().cpu().numpy())
    finally:
        net.train(was_training)
    return {n: np.concatenate(c) if c else np.zeros((0, 0), np.float32) for n, c in chunks.items()}


def extract_representations(
    backbone: Backbone, images: Images, batch_size: int = 256, *,
    model: ModelSource | None = None, store: ArtifactStore | None = None,
    model_key: str | None = None, tap: str = "graph",
) -> dict[str, np.ndarray]:
    """Representations ``{node: (N, d_l) float32}`` of ``images`` at every tap, in tap order.

    Runs ``model`` (default: the backbone's own module; a function returning the module is
    called only when the representations are computed) in eval mode under ``torch.no_grad`` on
    its own device, tapped by the registered tap ``tap`` (``--modes-tap``; default
    :class:`GraphTap`). With a ``store`` and the ``model_key`` of the weights (for a trained
    model :func:`modes.training.fit.train_key`) the result is cached under
    :class:`RepresentationsRequest`, the one place representations are stored (the scenario
    calls this function).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    factory: TapFactory = registry.component("tap", tap).factory
    if store is None or model_key is None:
        return _extract(backbone, model, images, batch_size, factory)
    cached = store.get_or_compute(
        "representations", representations_request(backbone, images, model_key, tap),
        lambda: _extract(backbone, model, images, batch_size, factory))
    return {n: cached[n] for n in backbone.tap_nodes()}
