"""The one training loop: K models of one architecture trained at once (K = 1 for a backbone).

Every classifier of the project follows one recipe (Feldman & Zhang 2020; paper, "Experimental
setup"): cross-entropy, SGD with Nesterov momentum and weight decay, torch's ``OneCycleLR``
stepped per batch (:mod:`modes.training.schedule`), random crop + horizontal flip, optional
Gaussian input noise, ``train.epochs`` epochs of the scale profile. A backbone is the ensemble of
one member (:func:`modes.training.fit.train_classifier`); memorization trials and density-bin
models are ensembles of many. Images are read as uint8 pixels normalised per batch
(:class:`~modes.data.streaming.NormalisedImages`) or as a float tensor.

The members' parameters and buffers are stacked along a leading dimension
(``torch.func.stack_module_state``). Networks built from Conv2d, BatchNorm and Linear layers
(ResNets) run as one channel-stacked network (:mod:`modes.training.stacked`): member k's channels
are block k of every layer, convolutions run as one grouped convolution and activations are never
permuted between layers. Other networks are evaluated with ``torch.func.vmap`` over
``torch.func.functional_call`` (one member: ``functional_call`` alone). Each member has its own
initialisation, its own training subset (a row of ``masks``) drawn in its own random order, and
its own augmentation.

BatchNorm: every member normalises with the statistics of its own batch, and its running
statistics are its own rows of the stacked buffers, updated in place. Eval-mode predictions
therefore use each member's own running statistics, exactly as the member trained alone would
(checked in ``tests/test_ensemble.py``).

Throughput (``benchmarks/bench_memorization.py``; ``benchmarks/bench_trainer.py`` for one member
against the Lightning loop this replaced): batching removes per-model Python and
framework overhead, but at the smoke size one ResNet18 step (batch 128) already keeps a CPU core
busy in oneDNN convolutions at about a third of its peak, and the grouped convolutions of few
channels per member run no faster per FLOP; on a 2-core Zen 5, one thread, a batched trial costs
about what a bare single-model loop costs (and ~1.2x less than ``train_classifier`` did when it
ran Lightning). One member trains a smoke epoch ~1.35x faster than that Lightning loop did
(``benchmarks/bench_trainer.py``'s docstring).
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from modes.data.streaming import Images
from modes.scale import TrainScale
from modes.training.augment import crop_flip_draws, crop_padding_for
from modes.training.schedule import one_cycle_optimizer
from modes.training.stacked import matches_members, stack_network

ModuleFactory = Callable[[], nn.Module]
METHODS = ("auto", "stacked", "vmap")


class Ensemble:
    """K trained members of one architecture, stored as stacked parameters and buffers.

    ``stacked`` is the channel-stacked network reading those parameters
    (:func:`~modes.training.stacked.stack_network`), or None to evaluate the members with ``vmap``
    (one member: ``functional_call``). Once trained, ``step_losses`` holds each member's mean
    training loss per step, ``(steps, K)``, and ``step_lrs`` the learning rate of each step.
    """

    def __init__(self, template: nn.Module, params: dict[str, torch.Tensor],
                 buffers: dict[str, torch.Tensor], stacked: nn.Module | None = None):
        self.template = template
        self.params = params
        self.buffers = buffers
        self.stacked = stacked
        self.step_losses = np.zeros((0, self.size))
        self.step_lrs = np.zeros(0)

    @property
    def size(self) -> int:
        return int(next(iter(self.params.values())).shape[0])

    def _call(self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
              x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = functional_call(self.template, (params, buffers), (x,))
        return out

    def _train(self, mode: bool) -> None:
        self.template.train(mode)
        if self.stacked is not None:
            self.stacked.train(mode)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """Member k's outputs on its inputs ``x[:, k]``: ``x`` is ``(B, K, C, ...)``, the result
        ``(B, K, classes)``."""
        if self.stacked is not None:
            x = x.flatten(1, 2)
            if x.ndim == 4:  # oneDNN's grouped convolutions and batch norms run faster in NHWC
                x = x.contiguous(memory_format=torch.channels_last)
            out: torch.Tensor = self.stacked(x)
            return torch.unflatten(out, -1, (self.size, -1))  # typed, unlike the method
        if self.size == 1:  # one member: its own module, no vectorising map
            params = {name: p[0] for name, p in self.params.items()}
            buffers = {name: b[0] for name, b in self.buffers.items()}
            return self._call(params, buffers, x[:, 0])[:, None]
        forward = vmap(self._call, in_dims=(0, 0, 1), out_dims=1, randomness="different")
        out = forward(self.params, self.buffers, x)
        return out

    def logits(self, images: Images, batch_size: int = 512) -> torch.Tensor:
        """Eval-mode logits of every member on the same images: ``(K, N, classes)``."""
        self._train(False)
        device = next(iter(self.params.values())).device
        outputs = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = images[start:start + batch_size].to(device)
                x = x[:, None].expand(len(x), self.size, *x.shape[1:])
                with _LOCK.run():
                    outputs.append(self._forward(x).transpose(0, 1))
        return torch.cat(outputs, dim=1)

    def predict(self, images: Images, batch_size: int = 512) -> np.ndarray:
        """Eval-mode predicted classes ``(K, N)``."""
        return self.logits(images, batch_size).argmax(dim=-1).cpu().numpy()

    def member(self, k: int) -> nn.Module:
        """Member ``k`` as an ordinary module (eval mode) holding copies of its weights."""
        if not 0 <= k < self.size:
            raise ValueError(f"member index {k} outside [0, {self.size})")
        module = copy.deepcopy(self.template)
        state = {name: t[k].detach().clone() for name, t in {**self.params, **self.buffers}.items()}
        module.load_state_dict(state, assign=True)
        return module.eval()


class _BuildLock:
    """Builds exclude each other and forward passes; forward passes run concurrently.

    Building a network touches process-wide state: torch's global RNG (seeded per member) and,
    for backbones that discover their tap nodes with ``torch.fx`` at construction, a patched
    ``nn.Module.__call__`` that intercepts every concurrent forward pass. Threads (a thread pool,
    a multi-threaded Dask worker) therefore build alone, and wait for running steps to end.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        self._building = False
        self._waiting_builders = 0

    @contextmanager
    def build(self) -> Iterator[None]:
        with self._cond:
            self._waiting_builders += 1
            self._cond.wait_for(lambda: not self._building and self._running == 0)
            self._waiting_builders -= 1
            self._building = True
        try:
            yield
        finally:
            with self._cond:
                self._building = False
                self._cond.notify_all()

    @contextmanager
    def run(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._building and self._waiting_builders == 0)
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()


_LOCK = _BuildLock()


def seeded_module(module_factory: ModuleFactory, seed: int) -> nn.Module:
    """``module_factory()`` initialised from ``seed``, leaving torch's global RNG as it was."""
    with _LOCK.build(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return module_factory()


def architecture_key(backbone_factory: Callable[[], object], seed: int) -> str:
    """Digest of what a trained result of ``backbone_factory()`` stands on, for cache requests:
    the module's structure (``repr``) and its initialisation, i.e. the backbone's
    :class:`~modes.components.backbones.base.BackboneSpec` (which names initialisation settings
    such as ``zero_init_residual`` or a pretrained file) or, for a backbone without one, its
    initial weights under ``seed``. Builds one network."""
    with _LOCK.build(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone: Any = backbone_factory()
    module: nn.Module = backbone.module()
    digest = hashlib.sha256(repr(module).encode())
    spec = getattr(backbone, "spec", None)
    if spec is not None:
        digest.update(repr(spec).encode())
    else:
        for name, tensor in module.state_dict().items():
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(tensor.detach().cpu().numpy()).tobytes())
    return digest.hexdigest()[:16]


def member_batches(masks: np.ndarray, epochs: int, batch_size: int,
                   seeds: Sequence[int]) -> np.ndarray:
    """Index batches ``(steps, K, batch)``: member k walks its own subset in its own order.

    Each member's stream is a concatenation of fresh random permutations of its subset (one per
    epoch) cut into batches; all members take ``ceil(epochs * max subset size / batch_size)``
    steps, so members with a slightly smaller subset see it a little more often. Batches hold at
    most the smallest subset's size: a subset smaller than ``batch_size`` (a toy set) gives smaller
    batches, not batches of copies.
    """
    sizes = masks.sum(axis=1)
    if np.any(sizes == 0):
        raise ValueError(f"every member needs a non-empty training subset; sizes are {sizes}")
    batch_size = min(batch_size, int(sizes.min()))
    steps = math.ceil(epochs * int(sizes.max()) / batch_size)
    need = steps * batch_size
    out = np.empty((steps, len(masks), batch_size), dtype=np.int64)
    for k, (mask, seed) in enumerate(zip(masks, seeds, strict=True)):
        members = np.flatnonzero(mask)
        rng = np.random.default_rng([int(seed), 1])
        reps = math.ceil(need / len(members))
        stream = np.concatenate([rng.permutation(members) for _ in range(reps)])[:need]
        out[:, k, :] = stream.reshape(steps, batch_size)
    return out


def member_inputs(images: Images, index: torch.Tensor, padding: int, hflip: bool,
                  generators: Sequence[torch.Generator],
                  noise_std: torch.Tensor | None = None) -> torch.Tensor:
    """Augmented inputs ``(B, K, C, H, W)``: column k is member k's batch ``images[index[k]]``.

    Member k's random crop and flip are drawn from ``generators[k]`` by
    :func:`modes.training.augment.crop_flip_draws`, as ``random_crop_flip`` draws them, then its
    Gaussian noise of std ``noise_std`` (per channel), so a member gets the inputs it would get
    trained alone; the crops of all members are then cut in one gather. ``images`` as uint8
    pixels are gathered as pixels and normalised (per batch) before the crop.
    """
    members, batch = index.shape
    channels, h, w = images.shape[1:]
    device = images.device
    x = images[index.T]  # (B, K, C, H, W)
    if padding > 0 or hflip:
        dy = torch.zeros(members, batch, dtype=torch.long, device=device)
        dx = torch.zeros_like(dy)
        flip = torch.zeros(members, batch, dtype=torch.bool, device=device)
        for k, g in enumerate(generators):
            draw_dy, draw_dx, draw_flip = crop_flip_draws(batch, padding, hflip, g, device)
            if draw_dy is not None and draw_dx is not None:
                dy[k], dx[k] = draw_dy, draw_dx
            if draw_flip is not None:
                flip[k] = draw_flip
        rows = torch.arange(h, device=device) + dy.T[..., None]  # (B, K, H)
        cols = torch.arange(w, device=device)
        cols = torch.where(flip.T[..., None], cols.flip(0), cols) + dx.T[..., None]  # (B, K, W)
        padded = F.pad(x, (padding,) * 4)
        x = padded.gather(3, rows[:, :, None, :, None].expand(*x.shape[:3], h, w + 2 * padding))
        x = x.gather(4, cols[:, :, None, None, :].expand((*x.shape[:4], w)))
    if noise_std is not None:
        shape = (batch, channels, h, w)
        x = x + torch.stack([torch.randn(shape, generator=g, device=device, dtype=x.dtype)
                             for g in generators], dim=1) * noise_std
    return x


def _stacked_network(template: nn.Module, params: dict[str, torch.Tensor],
                     buffers: dict[str, torch.Tensor], members: list[nn.Module],
                     probe: torch.Tensor, method: str) -> nn.Module | None:
    """The channel-stacked network for ``method`` "stacked" or "auto" (None: use vmap)."""
    if method == "vmap":
        return None
    try:
        net = stack_network(template, params, buffers)
    except ValueError:
        if method == "stacked":
            raise
        return None
    with _LOCK.run():
        same = matches_members(net, members, probe)
    if not same and method == "stacked":
        raise ValueError("the channel-stacked network does not reproduce its members' outputs "
                         "(its forward mixes or reshapes channels); use method='vmap'")
    return net if same else None


def train_ensemble(module_factory: ModuleFactory, images: Images, labels: torch.Tensor,
                   masks: np.ndarray, train: TrainScale, seeds: Sequence[int],
                   noise_std: float | Sequence[float] = 0.0, device: str | torch.device = "cpu",
                   progress: bool = False, method: str = "auto") -> Ensemble:
    """Train ``len(masks)`` models at once; member k sees only the examples where ``masks[k]``.

    Member k's initialisation, data order and augmentation derive from ``seeds[k]``: the same
    seeds give the same models. Randomness inside the forward pass (dropout; none of the
    registered backbones has any) draws on torch's global generator, which this function leaves
    alone, because threads training other ensembles build their networks from it
    (:class:`_BuildLock`); :func:`modes.training.fit.train_classifier` seeds it. SGD with
    Nesterov momentum and weight decay and the one-cycle learning rate follow ``train``
    (:func:`~modes.training.schedule.one_cycle_optimizer`; the optimizer is element-wise, so
    one optimizer over the stacked parameters equals one optimizer per member).
    ``noise_std`` adds Gaussian input noise of that std (per channel, in the images' units)
    after augmentation, as in noise-augmented training for randomized smoothing. ``method``:
    "stacked" runs the channel-stacked network (:mod:`modes.training.stacked`), "vmap" vectorises
    the module with ``torch.func.vmap``, "auto" (default) takes "stacked" where the network
    supports it.
    """
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != len(images):
        raise ValueError(f"masks must have shape (members, {len(images)}), got {masks.shape}")
    if len(seeds) != len(masks):
        raise ValueError(f"need one seed per member: {len(seeds)} seeds for {len(masks)} members")
    if len(labels) != len(images):
        raise ValueError(f"labels has length {len(labels)} but images has {len(images)}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known methods: {list(METHODS)}")
    device = torch.device(device)
    members = [seeded_module(module_factory, int(seed)).to(device) for seed in seeds]
    params, buffers = stack_module_state(members)
    params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    template = copy.deepcopy(members[0]).to("meta")
    stacked = _stacked_network(template, params, buffers, members, images[:2].to(device), method)
    ensemble = Ensemble(template, params, buffers, stacked)
    del members

    batches = member_batches(masks, train.epochs, train.batch_size, seeds)
    optimizer, scheduler = one_cycle_optimizer(params.values(), train, len(batches))
    generators = [torch.Generator(device=device).manual_seed(int(seed) * 7919 + 17)
                  for seed in seeds]
    noise = torch.as_tensor(noise_std, dtype=images.dtype).reshape(-1, 1, 1).to(device)
    noisy = noise if bool(torch.any(noise > 0)) else None
    padding = crop_padding_for(images.shape[-1], train.crop_padding)
    images, labels = images.to(device), labels.to(device)
    losses, lrs = [], []
    ensemble._train(True)
    for step in tqdm(range(len(batches)), desc="training", disable=not progress):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        index = torch.from_numpy(batches[step]).to(device)
        x = member_inputs(images, index, padding, train.hflip, generators, noisy)
        with _LOCK.run():
            logits = ensemble._forward(x)  # (B, K, classes)
            member_loss = F.cross_entropy(logits.flatten(0, 1), labels[index.T].flatten(),
                                          reduction="none").view(-1, ensemble.size).mean(0)
            # Sum of the members' mean losses: member k's gradient is that of its own loss.
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(member_loss.sum())  # typed, unlike Tensor.backward
            optimizer.step()
        scheduler.step()
        losses.append(member_loss.detach())
    for p in params.values():
        p.requires_grad_(False)
    ensemble.step_losses = torch.stack(losses).cpu().double().numpy()
    ensemble.step_lrs = np.asarray(lrs)
    return ensemble
