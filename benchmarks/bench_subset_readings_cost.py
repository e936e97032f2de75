"""What reading C8's and C9's fits with every reading costs at fit time.

    OMP_NUM_THREADS=1 python benchmarks/bench_subset_readings_cost.py --scale smoke --dims 16

The Fig. 4 (C8) and Fig. A.11 (C9) fits store, per layer, the between-class KLs and the
generative classifier's predictions under each of :data:`modes.measures.READINGS` (six), so that
the sensitivity table's predictive and averaging cells pick their reading instead of refitting.
This fits one synthetic layer shaped like the profile's (C8: three subsets of ``num_classes``
classes of ``fitting.per_class_cap`` points, one group per subset and class; C9: every class
without its share of the ``3 x fitting.heldout_per_subset`` held-out points, which it then
classifies) with the paper-pooled sampler settings, then times the fit's reading with its own
reading only (``classify``; C8: ``kl_to_all`` to every group, as before, and
``read_kl_to_all`` to the group's own subset, as now) and with all six (``read_kl_to_all``,
``read_classify``): median of ``--repeats`` (fits timed once). ``--rows R`` times the KL rows of
R source groups only (each row is one group's KLs to every group: the rows cost the same), and
prints the per-layer time as the measured time x groups / R.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from modes.components.density.component import DPGMMDensity, dpgmm_config
from modes.measures import PAPER_POOLED, READINGS, SamplerSettings
from modes.scale import load_profile


def _median(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="smoke")
    p.add_argument("--dims", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rows", type=int, default=0, help="KL rows timed (0: every group's)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    scale = load_profile(a.scale)
    d, f = scale.density, scale.fitting
    settings = SamplerSettings(sweeps=d.sweeps, burn_in=d.burn_in, thin=d.thin,
                               block_size=d.block_size, init_components=d.init_components,
                               chains=d.chains, dtype=d.dtype, folds=d.folds,
                               kl_samples=d.kl_samples, null_replicates=d.null_replicates)
    rng = np.random.default_rng(a.seed)
    classes = scale.data.num_classes
    centres = 3.0 * rng.normal(size=(classes, a.dims))
    model = DPGMMDensity(dpgmm_config(settings, PAPER_POOLED, a.seed))
    print(f"{a.scale}: d {a.dims}, {settings.sweeps} sweeps, {settings.chains} chains, "
          f"kl_samples {settings.kl_samples}, repeats {a.repeats}")
    print("| fit | groups x points | fit (s) | own reading (s) | all six readings (s) | "
          "readings' extra (s) |")
    print("|---|---|---|---|---|---|")

    # C8: one group per (subset, class), per_class_cap points each
    labels = np.tile(np.repeat(np.arange(classes), f.per_class_cap), 3)
    groups = np.repeat(np.arange(3), classes * f.per_class_cap) * classes + labels
    x = centres[labels] + rng.normal(size=(labels.size, a.dims))
    started = time.perf_counter()
    fitted = model.fit(x, groups)
    fit = time.perf_counter() - started
    ids = [int(g) for g in fitted.groups]
    rows = ids[:: max(1, len(ids) // a.rows)][: a.rows] if a.rows else ids
    scale_up = len(ids) / len(rows)

    def subset(g: int) -> list[int]:  # the KLs C8 reads: within the group's own subset
        return [h for h in ids if h // classes == g // classes]

    own = scale_up * _median(lambda: [fitted.kl_to_all(g, settings.kl_samples) for g in rows],
                             a.repeats)
    within = scale_up * _median(lambda: [fitted.read_kl_to_all(
        g, (PAPER_POOLED.reading,), settings.kl_samples, targets=subset(g)) for g in rows],
        a.repeats)
    every = scale_up * _median(lambda: [fitted.read_kl_to_all(
        g, READINGS, settings.kl_samples, targets=subset(g)) for g in rows], a.repeats)
    timed = "" if len(rows) == len(ids) else f" ({len(rows)} rows timed, x {scale_up:.2g})"
    print(f"| C8 KLs to every group, own reading (before){timed} | {len(ids)} x "
          f"{f.per_class_cap} | {fit:.1f} | {own:.1f} | | |", flush=True)
    print(f"| C8 KLs within each subset (now){timed} | {len(ids)} x {f.per_class_cap} | "
          f"{fit:.1f} | {within:.1f} | {every:.1f} | {every - within:.1f} |", flush=True)

    # C9: every class fitted without its held-out points, which are then classified
    per = scale.data.train_per_class
    labels = np.repeat(np.arange(classes), per)
    x = centres[labels] + rng.normal(size=(labels.size, a.dims))
    held = rng.choice(labels.size, size=min(3 * f.heldout_per_subset, labels.size // 2),
                      replace=False)
    train = np.setdiff1d(np.arange(labels.size), held)
    started = time.perf_counter()
    fitted = model.fit(x[train], labels[train])
    fit = time.perf_counter() - started
    own = _median(lambda: fitted.classify(x[held]), a.repeats)
    every = _median(lambda: fitted.read_classify(x[held], READINGS), a.repeats)
    print(f"| C9 predictions (one layer) | {classes} x {train.size // classes}, {held.size} "
          f"held out | {fit:.1f} | {own:.2f} | {every:.2f} | {every - own:.2f} |", flush=True)


if __name__ == "__main__":
    main()
