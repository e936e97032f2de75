"""Train a classifier once per request and keep its weights in the artifact store.

A request is (architecture, dataset content, :class:`~modes.scale.TrainScale`, seed, training
subset, input-noise sigma): a model trained on a subset of the training images is a first-class
request whose key hashes the indices, so memorization trials and density-bin models are cached like
any other. Weights are stored as a pickle-free ``.npz`` (atomic write, file lock so concurrent
workers train each model once) and read back with ``allow_pickle=False``.

Training is the project's one loop, :func:`modes.training.ensemble.train_ensemble`, with one
member: the backbones follow the recipe of the memorization trials and density-bin models.

Seeding: the initial weights of a registered backbone are re-drawn from ``seed`` (the architecture
is rebuilt from its :class:`~modes.components.backbones.BackboneSpec` under ``torch.manual_seed``),
the data order and augmentation use generators seeded from ``seed``; training on CPU is
deterministic. A backbone without a ``spec`` (e.g. a third-party one) is trained from a copy of its
current weights, whose hash joins the cache key; the scenario builds such a backbone under the
run's training seed (:meth:`modes.scenario.Scenario.seeded_backbone`), so that the seed alone
determines them.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import attrs
import numpy as np
import torch
from torch import nn

from modes.components.backbones.base import BackboneSpec, rebuild
from modes.components.protocols import Backbone
from modes.data.dataset import ImageDataset
from modes.data.streaming import Images
from modes.scale import TrainScale
from modes.store import ArtifactStore, request_key
from modes.training.augment import crop_padding_for
from modes.training.ensemble import train_ensemble

VERSION = "2"  # 2: the stacked trainer with one member (was Lightning)
_HISTORY = "_history/epoch_loss"


@attrs.frozen(eq=False)
class TrainRequest:
    """Everything that determines a trained model (hashed into its cache key)."""

    backbone: BackboneSpec | dict[str, Any]
    dataset: str
    train: TrainScale
    seed: int
    indices: np.ndarray | None
    noise_sigma: float
    crop_padding: int


def _state_hash(module: nn.Module) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).tobytes())
    return digest.hexdigest()


def _check_indices(indices: np.ndarray | None, n: int) -> np.ndarray | None:
    if indices is None:
        return None
    idx = np.asarray(indices)
    if idx.ndim != 1 or len(idx) == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"indices must be a non-empty 1-d integer array, got {idx.dtype} "
                         f"{idx.shape}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"indices must lie in [0, {n}), got range [{idx.min()}, {idx.max()}]")
    if len(np.unique(idx)) != len(idx):
        raise ValueError("indices must be distinct (a training subset, not a resample)")
    return idx.astype(np.int64)


def make_request(backbone: Backbone, data: ImageDataset, train: TrainScale, seed: int,
                 indices: np.ndarray | None = None, noise_sigma: float = 0.0) -> TrainRequest:
    """The cache request for training ``backbone`` on ``data`` (see :func:`train_classifier`)."""
    if noise_sigma < 0:
        raise ValueError(f"noise_sigma must be >= 0, got {noise_sigma}")
    if backbone.num_classes != data.num_classes:
        raise ValueError(f"backbone has {backbone.num_classes} outputs but the dataset "
                         f"{data.name!r} has {data.num_classes} classes")
    spec = getattr(backbone, "spec", None)
    arch: BackboneSpec | dict[str, Any] = (
        spec if isinstance(spec, BackboneSpec)
        else {"name": backbone.name, "initial_weights": _state_hash(backbone.module()),
              "version": _registered_version(backbone.name)}
    )
    padding = crop_padding_for(data.image_size, train.crop_padding)
    return TrainRequest(arch, data.fingerprint, train, int(seed),
                        _check_indices(indices, data.num_train), float(noise_sigma), padding)


def _registered_version(name: str) -> str | None:
    """The registry version of backbone ``name`` (a plug-in's distribution version), so that
    a new release of a plug-in backbone without a :class:`BackboneSpec` retrains it (its
    initial weights need not change with its code); None for a backbone built directly."""
    from modes import registry

    try:
        return registry.component("backbone", name).version
    except registry.UnknownComponentError:
        return None


def train_key(backbone: Backbone, data: ImageDataset, train: TrainScale, seed: int,
              indices: np.ndarray | None = None, noise_sigma: float = 0.0) -> str:
    """Store key of the model :func:`train_classifier` returns for these arguments."""
    return request_key(make_request(backbone, data, train, seed, indices, noise_sigma), VERSION)


def _initial_module(backbone: Backbone, seed: int) -> nn.Module:
    spec = getattr(backbone, "spec", None)
    if not isinstance(spec, BackboneSpec):
        return copy.deepcopy(backbone.module())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return rebuild(spec).module()


def epoch_means(step_losses: np.ndarray, epochs: int) -> np.ndarray:
    """Mean of ``step_losses`` over each of ``epochs`` consecutive, near-equal runs of steps (the
    trainer cuts a stream of whole batches, so an epoch need not be a whole number of steps)."""
    if epochs < 1 or len(step_losses) < epochs:
        raise ValueError(f"need 1 <= epochs <= steps, got {epochs} epochs of {len(step_losses)} "
                         "steps")
    return np.array([chunk.mean() for chunk in np.array_split(step_losses, epochs)])


def _fit(request: TrainRequest, backbone: Backbone, data: ImageDataset,
         progress: bool) -> dict[str, np.ndarray]:
    """Train one member on the request's images (all, or ``indices``) and return its state."""
    mask = np.zeros((1, data.num_train), dtype=bool)
    mask[0, slice(None) if request.indices is None else request.indices] = True

    def factory() -> nn.Module:
        return _initial_module(backbone, request.seed)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    # torch's global generator feeds randomness inside the forward pass (dropout, in a
    # third-party backbone): seeded here so that the seed alone determines the model
    with torch.random.fork_rng(devices=[0] if device == "cuda" else []):
        torch.manual_seed(request.seed)
        ensemble = train_ensemble(factory, data.train_images, data.train_labels, mask,
                                  request.train, [request.seed], noise_std=request.noise_sigma,
                                  device=device, progress=progress)
    state = {k: v.detach().cpu().numpy() for k, v in ensemble.member(0).state_dict().items()}
    state[_HISTORY] = epoch_means(ensemble.step_losses[:, 0], request.train.epochs)
    return state


def load_weights(backbone: Backbone, arrays: dict[str, np.ndarray], seed: int = 0) -> nn.Module:
    """A module of ``backbone``'s architecture holding the stored ``arrays`` (eval mode, CPU)."""
    net = _initial_module(backbone, seed)
    state = {k: torch.from_numpy(np.array(v)) for k, v in arrays.items() if not k.startswith("_")}
    net.load_state_dict(state, strict=True)
    return net.cpu().eval()


def train_classifier(backbone: Backbone, data: ImageDataset, train: TrainScale, seed: int,
                     indices: np.ndarray | None = None, noise_sigma: float = 0.0,
                     store: ArtifactStore | None = None, progress: bool = True) -> nn.Module:
    """Train a fresh, ``seed``-initialised copy of ``backbone`` on ``data`` (or its ``indices``).

    The project's recipe (:func:`modes.training.ensemble.train_ensemble`, one member): SGD
    (momentum ``train.momentum``, Nesterov, weight decay ``train.weight_decay``), batches of
    ``train.batch_size``, ``OneCycleLR`` ``min_lr -> max_lr`` over the first ``warmup_fraction``
    of the steps then back to ``min_lr``, ``train.epochs`` epochs, random crop (padding 4; 10 for
    84x84 images) and horizontal flip, plus ``N(0, noise_sigma^2)`` input noise when
    ``noise_sigma > 0``; images normalised per batch. Runs on a GPU when one is available. With a
    ``store`` the weights are trained once per request and loaded afterwards. ``backbone`` itself
    is not modified; tap the returned module with
    ``extract_representations(backbone, images, model=...)``.

    Returns the trained module on the CPU, in eval mode.
    """
    request = make_request(backbone, data, train, seed, indices, noise_sigma)
    if store is None:
        arrays = _fit(request, backbone, data, progress)
    else:
        arrays = store.get_or_compute("model", request,
                                      lambda: _fit(request, backbone, data, progress), VERSION)
    return load_weights(backbone, arrays, seed)


def training_history(store: ArtifactStore, key: str) -> np.ndarray | None:
    """Mean training loss per epoch of the stored model ``key`` (None when not stored)."""
    arrays = store.load("model", key)
    return None if arrays is None else arrays.get(_HISTORY)


def predict(model: nn.Module, images: Images, batch_size: int = 512) -> np.ndarray:
    """Predicted class of every image (argmax of the logits), eval mode, no gradients."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                logits = model(images[start:start + batch_size].to(device))
                out.append(logits.argmax(dim=1).cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def evaluate(model: nn.Module, images: Images, labels: torch.Tensor | np.ndarray,
             batch_size: int = 512) -> np.ndarray:
    """Predictions of ``model`` for ``images`` whose true ``labels`` are given (lengths checked).

    Returns the predicted labels; accuracy is ``(predictions == labels).mean()``
    (:func:`accuracy`).
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return predict(model, images, batch_size)


def accuracy(model: nn.Module, images: Images, labels: torch.Tensor | np.ndarray,
             batch_size: int = 512) -> float:
    """Fraction of ``images`` classified as their ``labels``."""
    predictions = evaluate(model, images, labels, batch_size)
    return float(np.mean(predictions == np.asarray(labels)))
