"""The Lightning module that trains every classifier (Feldman & Zhang 2020; paper, "Experimental
setup"): cross-entropy, SGD with Nesterov momentum, one-cycle learning rate stepped per batch,
random crop + horizontal flip, optional Gaussian input noise (for smoothed classifiers)."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from modes.scale import TrainScale
from modes.training.augment import gaussian_noise, random_crop_flip


def one_cycle_scheduler(optimizer: torch.optim.Optimizer, total_steps: int,
                        train: TrainScale) -> torch.optim.lr_scheduler.OneCycleLR:
    """``OneCycleLR`` reproducing :func:`modes.training.schedule.one_cycle_lr` step for step.

    That schedule (kept for the hand-stepped ensembles) is linear ``min_lr -> max_lr`` on
    ``[0, warmup_fraction * T]`` and ``max_lr -> min_lr`` on ``[peak, T]``. ``OneCycleLR`` with
    ``total_steps = N`` peaks at step ``pct_start * N - 1`` and ends at ``N - 1``; so ``N = T + 1``
    and ``pct_start = (warmup_fraction * T + 1) / (T + 1)`` put its peak and end where the old
    ones were (the end, step ``T``, follows the last batch). ``div_factor = max_lr / min_lr``
    starts at ``min_lr``; ``final_div_factor = 1`` ends there. Momentum stays fixed.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0.0 < train.warmup_fraction <= 1.0:
        raise ValueError(f"warmup_fraction must be in (0, 1], got {train.warmup_fraction}")
    if not 0.0 < train.min_lr <= train.max_lr:
        raise ValueError(f"need 0 < min_lr <= max_lr, got {train.min_lr}, {train.max_lr}")
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=train.max_lr, total_steps=total_steps + 1,
        pct_start=(train.warmup_fraction * total_steps + 1) / (total_steps + 1),
        anneal_strategy="linear", cycle_momentum=False,
        div_factor=train.max_lr / train.min_lr, final_div_factor=1.0)


class ClassifierModule(pl.LightningModule):
    """Wraps ``net``; ``total_steps`` sizes the one-cycle schedule; ``seed`` seeds augmentation."""

    def __init__(self, net: nn.Module, train: TrainScale, total_steps: int, crop_padding: int,
                 noise_sigma: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        self.net = net
        self.train_scale = train
        self.total_steps = total_steps
        self.crop_padding = crop_padding
        self.noise_sigma = noise_sigma
        self.seed = seed
        self.epoch_losses: list[float] = []
        self._losses: list[torch.Tensor] = []
        self._generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out

    def on_train_start(self) -> None:
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(self.seed)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Any:
        assert self._generator is not None
        x, y = batch
        x = random_crop_flip(x, self.crop_padding, self.train_scale.hflip, self._generator)
        x = gaussian_noise(x, self.noise_sigma, self._generator)
        loss = F.cross_entropy(self.net(x), y)
        self._losses.append(loss.detach())
        return loss

    def on_train_epoch_end(self) -> None:
        if self._losses:
            self.epoch_losses.append(float(torch.stack(self._losses).mean()))
        self._losses.clear()

    def configure_optimizers(self) -> Any:
        t = self.train_scale
        optimizer = torch.optim.SGD(self.net.parameters(), lr=t.max_lr, momentum=t.momentum,
                                    nesterov=t.nesterov, weight_decay=t.weight_decay)
        scheduler = one_cycle_scheduler(optimizer, self.total_steps, t)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
