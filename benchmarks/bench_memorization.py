"""Throughput of memorization trials: one model at a time vs. many models trained at once.

A trial is one model trained at the smoke scale (SMOKE.data, SMOKE.train with SMOKE.memorization's
epochs, width and stem) on a random subset, then asked for its prediction on every training
example. Every number is the cost of whole trials, measured end to end:

* ``one-at-a-time``: ``train_classifier`` (the project's trainer with one member), one trial per
  call; each call pays its own set-up (building and probing the stacked network). The first call
  in a process is reported apart (an untimed warm-up trial absorbs imports and first allocations);
* ``plain-loop``: the same SGD steps in a bare PyTorch loop, one model (no framework at all), in
  the default memory format and in channels_last (the faster of the two is the honest floor for
  one model at a time);
* ``batched``: ``train_ensemble`` training ``--members`` trials in one call (building, training
  and predicting included), per trial.

Each method is timed ``--repeats`` times, interleaved, as wall time and as the process's CPU time;
the table shows the best and the median. Achieved GFLOP/s counts the training and prediction
FLOPs of a trial (``torch.utils.flop_counter``). The CPU is shared: quote numbers from an idle
machine, or say how loaded it was.

    python benchmarks/bench_memorization.py --members 16 --threads 1 --repeats 3
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
from torch.utils.flop_counter import FlopCounterMode

from modes import registry
from modes.components.memorization.subsampled import subset_size, trial_masks
from modes.data import load_dataset
from modes.data.dataset import ImageDataset
from modes.scale import SMOKE, TrainScale
from modes.training.augment import crop_padding_for, random_crop_flip
from modes.training.ensemble import train_ensemble
from modes.training.fit import predict, train_classifier
from modes.training.schedule import one_cycle_optimizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stem", default=SMOKE.memorization.stem,
                        choices=["cifar", "mini-imagenet"])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    for name in ("members", "threads", "repeats"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got {getattr(args, name)}")
    torch.set_num_threads(args.threads)

    m = SMOKE.memorization
    data = load_dataset("synthetic", SMOKE.data, seed=0)
    train = attrs.evolve(SMOKE.train, epochs=m.epochs, width=m.width)

    def backbone():
        return registry.create("backbone", "resnet18", num_classes=data.num_classes,
                               width=m.width, stem=args.stem)

    masks = trial_masks(data.num_train, m.subset_ratio, 0, range(args.members))
    steps = math.ceil(train.epochs * subset_size(data.num_train, m.subset_ratio)
                      / train.batch_size)
    flops = _trial_flops(backbone().module(), data, train.batch_size, steps)
    print(f"smoke: {data.num_train} examples, subset {subset_size(data.num_train, m.subset_ratio)}"
          f", {train.epochs} epochs ({steps} steps), width {m.width}, stem {args.stem}, batch "
          f"{train.batch_size}, {args.threads} thread(s), device {args.device}; "
          f"{flops / 1e9:.1f} GFLOP per trial")

    def one_at_a_time() -> None:
        model = train_classifier(backbone(), data, train, seed=1,
                                 indices=np.flatnonzero(masks[0]), progress=False)
        predict(model, data.train_images)

    def plain(channels_last: bool) -> Callable[[], None]:
        def run() -> None:
            model = _plain_loop(backbone().module(), data, masks[0], train, args.device,
                                channels_last)
            predict(model, data.train_images)
        return run

    def batched() -> None:
        ensemble = train_ensemble(lambda: backbone().module(), data.train_images,
                                  data.train_labels, masks, train,
                                  seeds=list(range(args.members)), device=args.device)
        ensemble.predict(data.train_images)

    methods: dict[str, tuple[Callable[[], None], int]] = {}
    if args.device == "cpu":
        start = time.perf_counter()
        one_at_a_time()  # warm-up: imports and first allocations (once per process)
        print(f"first train_classifier trial in this process: "
              f"{time.perf_counter() - start:.2f} s")
        methods["one-at-a-time (train_classifier)"] = (one_at_a_time, 1)
    methods["plain-loop (one model)"] = (plain(False), 1)
    methods["plain-loop (one model, channels_last)"] = (plain(True), 1)
    methods[f"batched ({args.members} members)"] = (batched, args.members)

    wall: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, (run, trials) in methods.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            wall[name].append((time.perf_counter() - start) / trials)
            cpu[name].append((time.process_time() - start_cpu) / trials)

    base = min(wall["plain-loop (one model)"] + wall["plain-loop (one model, channels_last)"])
    print(f"{'s/trial (best / median of ' + str(args.repeats) + ')':40s} {'wall':>15s} "
          f"{'cpu':>15s} {'trials/hour':>12s} {'GFLOP/s':>8s} {'x plain':>8s}")
    for name in methods:
        best = min(wall[name])
        print(f"{name:40s} {best:7.2f} {statistics.median(wall[name]):7.2f} "
              f"{min(cpu[name]):7.2f} {statistics.median(cpu[name]):7.2f} {3600 / best:12.1f} "
              f"{flops / best / 1e9:8.1f} {base / best:8.2f}")
    batched_best = min(wall[f"batched ({args.members} members)"])
    print(f"whole smoke estimate ({m.trials} trials) batched: {m.trials * batched_best / 60:.1f} "
          f"min")


def _trial_flops(net: torch.nn.Module, data: ImageDataset, batch_size: int, steps: int) -> float:
    """FLOPs of one trial: ``steps`` training steps plus a forward pass over the training set."""
    x = data.train_images[:batch_size]
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), data.train_labels[:batch_size]).backward()
    train_step = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net.eval()(x)
    return float(steps * train_step + counter.get_total_flops() * data.num_train / batch_size)


def _plain_loop(net: torch.nn.Module, data: ImageDataset, mask: np.ndarray, train: TrainScale,
                device: str, channels_last: bool) -> torch.nn.Module:
    """The trainer's SGD steps for one model without any framework (a floor for one-at-a-time)."""
    layout = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(device, memory_format=layout).train()
    idx = np.flatnonzero(mask)
    steps = math.ceil(train.epochs * len(idx) / train.batch_size)
    opt, schedule = one_cycle_optimizer(net.parameters(), train, steps)
    gen = torch.Generator(device=device).manual_seed(0)
    rng = np.random.default_rng(0)
    padding = crop_padding_for(data.image_size, train.crop_padding)
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    for _ in range(steps):
        batch = torch.from_numpy(rng.choice(idx, train.batch_size, replace=False)).to(device)
        x = random_crop_flip(images[batch], padding, train.hflip, gen)
        loss = F.cross_entropy(net(x.contiguous(memory_format=layout)), labels[batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    return net.eval()


if __name__ == "__main__":
    main()
