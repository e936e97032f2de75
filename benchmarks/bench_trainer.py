"""Epoch time of the backbone trainer (the stacked trainer with one member) vs. a bare loop.

The smoke backbone (ResNet18 at ``SMOKE.train.width`` on ``SMOKE.data``, the synthetic set) is
trained for ``--epochs`` epochs by each method in one process, interleaved, ``--repeats`` times;
the table gives the median wall and CPU seconds per epoch (set-up included, divided by the
epochs). An untimed warm-up run of each absorbs imports.

* ``train_classifier``: ``modes.training.fit.train_classifier``, i.e. ``train_ensemble`` with one
  member (channel-stacked network, channels_last, images normalised per batch);
* ``plain loop``: the same steps (SGD + ``OneCycleLR``, crop/flip, whole batches) in a bare
  PyTorch loop over a float tensor, channels_last: the floor for one model.

Until commit 642a2b9 this script also timed the Lightning trainer that ``train_classifier`` then
was (a ``pl.Trainer`` with logging, checkpointing and callbacks off, a ``DataLoader`` over the
normalised tensors), against ``train_ensemble`` with K = 1 (2 epochs x 3 repeats, 1 thread, on the
shared 2-core machine at load ~3.5): Lightning 6.22 s/epoch wall (3.92 s CPU), stacked K=1
4.51 s/epoch wall (2.90 s CPU), ratio 1.38 (wall) / 1.35 (CPU). That is why the stacked trainer is
the one loop. End to end, ``train_classifier`` at 642a2b9 (Lightning) against this commit's (one
member, streaming images), alternating processes, 3 each, 2 timed epochs after a warm-up epoch, load
~5.5: medians 4.99 vs 3.73 s/epoch wall, 3.35 vs 2.47 s CPU (1.34x, 1.36x).

    OMP_NUM_THREADS=1 python benchmarks/bench_trainer.py --threads 1 --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import attrs
import numpy as np
import torch
import torch.nn.functional as F

from modes import registry
from modes.data import load_dataset
from modes.data.dataset import ImageDataset
from modes.scale import SMOKE, TrainScale
from modes.training.augment import crop_padding_for, random_crop_flip
from modes.training.fit import train_classifier
from modes.training.schedule import one_cycle_optimizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in ("threads", "epochs", "repeats"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    torch.set_num_threads(args.threads)

    data = load_dataset("synthetic", SMOKE.data, seed=0)
    train = attrs.evolve(SMOKE.train, epochs=args.epochs)

    def backbone():
        return registry.create("backbone", "resnet18", num_classes=data.num_classes,
                               width=train.width)

    def trainer() -> None:
        train_classifier(backbone(), data, train, seed=0, progress=False)

    def plain() -> None:
        _plain_loop(backbone().module(), data, train)

    methods: dict[str, Callable[[], None]] = {"train_classifier": trainer, "plain loop": plain}
    print(f"smoke backbone: resnet18 width {train.width}, {data.num_train} images "
          f"{data.image_size}px, batch {train.batch_size}, {args.epochs} epoch(s) per run, "
          f"{args.threads} thread(s), {args.repeats} repeats")
    for run in methods.values():
        run()  # warm-up: imports, first-call allocations
    wall: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, run in methods.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append((time.perf_counter() - start) / args.epochs)
            cpu[name].append((time.process_time() - start_cpu) / args.epochs)
    print(f"{'s/epoch':16s} {'median wall':>12s} {'median cpu':>12s}  all wall")
    for name in methods:
        print(f"{name:16s} {statistics.median(wall[name]):12.2f} "
              f"{statistics.median(cpu[name]):12.2f}  "
              + " ".join(f"{w:.2f}" for w in wall[name]))
    ratio = statistics.median(wall["train_classifier"]) / statistics.median(wall["plain loop"])
    print(f"train_classifier / plain loop (median wall per epoch): {ratio:.2f}")


def _plain_loop(net: torch.nn.Module, data: ImageDataset, train: TrainScale) -> None:
    """The trainer's steps for one model on all images, without the trainer."""
    net = net.to(memory_format=torch.channels_last).train()
    steps = math.ceil(train.epochs * data.num_train / train.batch_size)
    opt, schedule = one_cycle_optimizer(net.parameters(), train, steps)
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    padding = crop_padding_for(data.image_size, train.crop_padding)
    images, labels = data.train_images.normalise(), data.train_labels
    for _ in range(steps):
        batch = torch.from_numpy(rng.choice(data.num_train, train.batch_size, replace=False))
        x = random_crop_flip(images[batch], padding, train.hflip, gen)
        loss = F.cross_entropy(net(x.contiguous(memory_format=torch.channels_last)),
                               labels[batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()


if __name__ == "__main__":
    main()
