"""Epoch time of the backbone trainer: Lightning (``train_classifier``) vs. the stacked trainer, K=1.

The smoke backbone (ResNet18 at ``SMOKE.train.width`` on ``SMOKE.data``, the synthetic set) is
trained for ``--epochs`` epochs by each path in one process, interleaved, ``--repeats`` times;
the table gives the median wall and CPU seconds per epoch (set-up included, divided by the
epochs) and the ratio old / new. An untimed warm-up run of each path absorbs imports.

* ``lightning``: ``modes.training.fit.train_classifier`` as it was (a ``pl.Trainer`` with logging,
  checkpointing and callbacks disabled, a ``DataLoader`` over the normalised tensors);
* ``stacked K=1``: ``modes.training.ensemble.train_ensemble`` with one member training on every
  image (the memorization ensemble's trainer: channel-stacked network, channels_last).

    OMP_NUM_THREADS=1 python benchmarks/bench_trainer.py --threads 1 --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import attrs
import numpy as np
import torch

from modes import registry
from modes.data import load_dataset
from modes.scale import SMOKE
from modes.training.ensemble import train_ensemble
from modes.training.fit import train_classifier


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

    def lightning() -> None:
        train_classifier(backbone(), data, train, seed=0, progress=False)

    def stacked() -> None:
        train_ensemble(lambda: backbone().module(), data.train_images, data.train_labels,
                       np.ones((1, data.num_train), dtype=bool), train, seeds=[0])

    methods: dict[str, Callable[[], None]] = {"lightning": lightning, "stacked K=1": stacked}
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
    print(f"{'s/epoch':14s} {'median wall':>12s} {'median cpu':>12s}  all wall")
    for name in methods:
        print(f"{name:14s} {statistics.median(wall[name]):12.2f} "
              f"{statistics.median(cpu[name]):12.2f}  "
              + " ".join(f"{w:.2f}" for w in wall[name]))
    ratio = statistics.median(wall["lightning"]) / statistics.median(wall["stacked K=1"])
    print(f"lightning / stacked K=1 (median wall per epoch): {ratio:.2f}")


if __name__ == "__main__":
    main()
