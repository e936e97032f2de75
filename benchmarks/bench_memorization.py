"""Throughput of memorization trials: one model at a time vs. many models trained at once.

Prints trials per hour at the smoke scale (SMOKE.data, SMOKE.train with SMOKE.memorization's
epochs and width) for

* ``one-at-a-time``: ``train_classifier`` (the project's Lightning trainer) on one random subset;
* ``plain-loop``: the same SGD steps in a bare PyTorch loop, one model (no framework overhead);
* ``batched``: ``train_ensemble`` with ``--members`` models in one vectorised pass.

Timings cover ``--measure-epochs`` epochs and are scaled to the configured epochs (every epoch
costs the same). The CPU is shared: run it on an idle machine for numbers to quote.

    python benchmarks/bench_memorization.py --members 16 --threads 1
"""

from __future__ import annotations

import argparse
import math
import time

import attrs
import numpy as np
import torch
import torch.nn.functional as F

from modes import registry
from modes.components.memorization.subsampled import subset_size, trial_masks
from modes.data import load_dataset
from modes.scale import SMOKE
from modes.training.augment import crop_padding_for, random_crop_flip
from modes.training.ensemble import train_ensemble
from modes.training.fit import train_classifier
from modes.training.schedule import one_cycle_lr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--measure-epochs", type=int, default=1)
    parser.add_argument("--stem", default="cifar", choices=["cifar", "mini-imagenet"])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    m = SMOKE.memorization
    data = load_dataset("synthetic", SMOKE.data, seed=0)
    train = attrs.evolve(SMOKE.train, epochs=args.measure_epochs, width=m.width)
    scale_up = m.epochs / args.measure_epochs

    def backbone():
        return registry.create("backbone", "resnet18", num_classes=data.num_classes,
                               width=m.width, stem=args.stem)

    masks = trial_masks(data.num_train, m.subset_ratio, 0, range(args.members))
    print(f"smoke: {data.num_train} examples, subset {subset_size(data.num_train, m.subset_ratio)}"
          f", {m.epochs} epochs, width {m.width}, stem {args.stem}, batch {train.batch_size}, "
          f"{args.threads} thread(s), device {args.device}")

    results = {}
    if args.device == "cpu":
        start = time.perf_counter()
        train_classifier(backbone(), data, train, seed=1, indices=np.flatnonzero(masks[0]),
                         progress=False)
        results["one-at-a-time (train_classifier)"] = (time.perf_counter() - start) * scale_up

    start = time.perf_counter()
    _plain_loop(backbone().module(), data, masks[0], train, args.device)
    results["plain-loop (one model)"] = (time.perf_counter() - start) * scale_up

    start = time.perf_counter()
    train_ensemble(lambda: backbone().module(), data.train_images, data.train_labels, masks,
                   train, seeds=list(range(args.members)), device=args.device)
    results[f"batched ({args.members} members)"] = (time.perf_counter() - start) * scale_up / \
        args.members

    base = results.get("one-at-a-time (train_classifier)", results["plain-loop (one model)"])
    for name, seconds in results.items():
        print(f"{name:36s} {seconds:8.2f} s/trial  {3600 / seconds:9.1f} trials/hour  "
              f"x{base / seconds:5.2f}")
    batched = results[f"batched ({args.members} members)"]
    print(f"whole smoke estimate ({m.trials} trials) batched: {m.trials * batched / 60:.1f} min")


def _plain_loop(net: torch.nn.Module, data, mask: np.ndarray, train, device: str) -> None:
    """The trainer's SGD steps for one model without any framework (a floor for one-at-a-time)."""
    net = net.to(device).train()
    idx = np.flatnonzero(mask)
    steps = math.ceil(train.epochs * len(idx) / train.batch_size)
    opt = torch.optim.SGD(net.parameters(), lr=train.max_lr, momentum=train.momentum,
                          nesterov=train.nesterov, weight_decay=train.weight_decay)
    gen = torch.Generator(device=device).manual_seed(0)
    rng = np.random.default_rng(0)
    padding = crop_padding_for(data.image_size, train.crop_padding)
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = float(one_cycle_lr(step, steps, train))
        batch = torch.from_numpy(rng.choice(idx, train.batch_size, replace=False)).to(device)
        x = random_crop_flip(images[batch], padding, train.hflip, gen)
        loss = F.cross_entropy(net(x), labels[batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


if __name__ == "__main__":
    main()
