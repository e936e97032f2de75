"""The optimizer and learning-rate schedule of every classifier (Feldman & Zhang 2020; paper,
"Experimental setup"): SGD with (Nesterov) momentum and weight decay, one-cycle learning rate
``min_lr -> max_lr`` over the first ``warmup_fraction`` of the steps, then back to ``min_lr``,
both linear, stepped once per batch. The schedule is torch's ``OneCycleLR``."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from modes.scale import TrainScale


def one_cycle_scheduler(optimizer: torch.optim.Optimizer, total_steps: int,
                        train: TrainScale) -> torch.optim.lr_scheduler.OneCycleLR:
    """``OneCycleLR`` linear ``min_lr -> max_lr`` on ``[0, warmup_fraction * T]`` and
    ``max_lr -> min_lr`` on ``[peak, T]`` for ``T = total_steps`` batches.

    ``OneCycleLR`` with ``total_steps = N`` peaks at step ``pct_start * N - 1`` and ends at
    ``N - 1``; so ``N = T + 1`` and ``pct_start = (warmup_fraction * T + 1) / (T + 1)`` put its
    peak at ``warmup_fraction * T`` and its end at ``T`` (one past the last batch).
    ``div_factor = max_lr / min_lr`` starts at ``min_lr``; ``final_div_factor = 1`` ends there.
    Momentum stays fixed.
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


def one_cycle_optimizer(
    params: Iterable[torch.Tensor], train: TrainScale, total_steps: int,
) -> tuple[torch.optim.SGD, torch.optim.lr_scheduler.OneCycleLR]:
    """SGD over ``params`` (momentum ``train.momentum``, Nesterov when ``train.nesterov``, weight
    decay ``train.weight_decay``) and its one-cycle schedule over ``total_steps`` batches; call
    ``scheduler.step()`` after every ``optimizer.step()``."""
    optimizer = torch.optim.SGD(list(params), lr=train.max_lr, momentum=train.momentum,
                                nesterov=train.nesterov, weight_decay=train.weight_decay)
    return optimizer, one_cycle_scheduler(optimizer, total_steps, train)
