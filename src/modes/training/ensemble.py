"""Train many small models at once: one vectorised forward/backward pass for the whole ensemble.

The members' parameters and buffers are stacked along a leading dimension
(``torch.func.stack_module_state``) and one template module is evaluated for all members with
``torch.func.vmap`` over ``torch.func.functional_call``; convolutions of the stacked members run as
one grouped convolution. Each member has its own initialisation, its own training subset (a row
of ``masks``) drawn in its own random order, and its own augmentation.

BatchNorm: every member normalises with the statistics of its own batch, and its running
statistics are its own rows of the stacked buffers, updated in place by the vmapped batch-norm
kernel. Eval-mode predictions therefore use each member's own running statistics, exactly as the
member trained alone would (checked in ``tests/test_ensemble.py``).
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from modes.scale import TrainScale
from modes.training.augment import crop_padding_for, random_crop_flip
from modes.training.schedule import one_cycle_lr

ModuleFactory = Callable[[], nn.Module]


class Ensemble:
    """K trained members of one architecture, stored as stacked parameters and buffers."""

    def __init__(self, template: nn.Module, params: dict[str, torch.Tensor],
                 buffers: dict[str, torch.Tensor]):
        self.template = template
        self.params = params
        self.buffers = buffers

    @property
    def size(self) -> int:
        return int(next(iter(self.params.values())).shape[0])

    def _call(self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
              x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = functional_call(self.template, (params, buffers), (x,))
        return out

    def logits(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Eval-mode logits of every member on the same images: ``(K, N, classes)``."""
        self.template.eval()
        device = next(iter(self.params.values())).device
        outputs = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = images[start:start + batch_size].to(device)
                with _LOCK.run():
                    outputs.append(vmap(self._call, in_dims=(0, 0, None))(self.params,
                                                                          self.buffers, x))
        return torch.cat(outputs, dim=1)

    def predict(self, images: torch.Tensor, batch_size: int = 512) -> np.ndarray:
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


def member_batches(masks: np.ndarray, epochs: int, batch_size: int,
                   seeds: Sequence[int]) -> np.ndarray:
    """Index batches ``(steps, K, batch_size)``: member k walks its own subset in its own order.

    Each member's stream is a concatenation of fresh random permutations of its subset (one per
    epoch) cut into batches; all members take ``ceil(epochs * max subset size / batch_size)``
    steps, so members with a slightly smaller subset see it a little more often.
    """
    sizes = masks.sum(axis=1)
    if np.any(sizes == 0):
        raise ValueError(f"every member needs a non-empty training subset; sizes are {sizes}")
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


def train_ensemble(module_factory: ModuleFactory, images: torch.Tensor, labels: torch.Tensor,
                   masks: np.ndarray, train: TrainScale, seeds: Sequence[int],
                   noise_std: float | Sequence[float] = 0.0, device: str | torch.device = "cpu",
                   progress: bool = False) -> Ensemble:
    """Train ``len(masks)`` models at once; member k sees only the examples where ``masks[k]``.

    Member k's initialisation, data order and augmentation derive from ``seeds[k]``. SGD with
    Nesterov momentum and weight decay follows ``train`` (the optimizer is element-wise, so one
    optimizer over the stacked parameters equals one optimizer per member). ``noise_std`` adds
    Gaussian input noise of that std (per channel, in the images' units) after augmentation,
    as in noise-augmented training for randomized smoothing.
    """
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != len(images):
        raise ValueError(f"masks must have shape (members, {len(images)}), got {masks.shape}")
    if len(seeds) != len(masks):
        raise ValueError(f"need one seed per member: {len(seeds)} seeds for {len(masks)} members")
    if len(labels) != len(images):
        raise ValueError(f"labels has length {len(labels)} but images has {len(images)}")
    device = torch.device(device)
    members = [seeded_module(module_factory, int(seed)).to(device) for seed in seeds]
    params, buffers = stack_module_state(members)
    params = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    template = copy.deepcopy(members[0]).to("meta")
    ensemble = Ensemble(template, params, buffers)

    batches = member_batches(masks, train.epochs, train.batch_size, seeds)
    optimizer = torch.optim.SGD(list(params.values()), lr=train.max_lr, momentum=train.momentum,
                                nesterov=train.nesterov, weight_decay=train.weight_decay)
    generators = [torch.Generator(device=device).manual_seed(int(seed) * 7919 + 17)
                  for seed in seeds]
    noise = torch.as_tensor(noise_std, dtype=images.dtype).reshape(-1, 1, 1).to(device)
    noisy = bool(torch.any(noise > 0))
    padding = crop_padding_for(images.shape[-1], train.crop_padding)
    images, labels = images.to(device), labels.to(device)
    forward = vmap(ensemble._call, in_dims=(0, 0, 0), randomness="different")
    template.train()
    for step in tqdm(range(len(batches)), desc="ensemble", disable=not progress):
        for group in optimizer.param_groups:
            group["lr"] = float(one_cycle_lr(step, len(batches), train))
        index = torch.from_numpy(batches[step]).to(device)
        # Each member draws its own augmentation (and noise) from its own generator.
        x = torch.stack([random_crop_flip(images[index[k]], padding, train.hflip, g)
                         for k, g in enumerate(generators)])
        if noisy:
            x = x + torch.stack([torch.randn(x.shape[1:], generator=g, device=device, dtype=x.dtype)
                                 for g in generators]) * noise
        with _LOCK.run():
            logits = forward(params, buffers, x)
            # Sum of the members' mean losses: member k's gradient is that of its own loss.
            loss = F.cross_entropy(logits.flatten(0, 1), labels[index].flatten(),
                                   reduction="sum") / train.batch_size
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    for p in params.values():
        p.requires_grad_(False)
    return ensemble
