"""What reading every fit with every predictive variant x state averaging costs.

    python benchmarks/bench_readings_cost.py --scale smoke --dims 16

The sensitivity table's predictive and averaging columns re-read the default run's chains: each
fit of the density stage is read with all of :data:`modes.measures.READINGS` (six) instead of its
measurement's one. This times :func:`modes.measures.measure_layer_readings` on one synthetic layer
shaped like the scale profile's (classes x train_per_class points, ``--dims`` SVD dims, its
sampler settings) with the measurement's own reading and with all of them, for both measurements;
the difference is the readings' cost per layer fit (the matched nulls pay it per replicate).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from modes.measures import MEASURES, READINGS, SamplerSettings, measure_layer_readings
from modes.scale import load_profile


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="smoke")
    p.add_argument("--dims", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    scale = load_profile(a.scale)
    d = scale.density
    settings = SamplerSettings(sweeps=d.sweeps, burn_in=d.burn_in, thin=d.thin,
                               block_size=d.block_size, init_components=d.init_components,
                               chains=d.chains, dtype=d.dtype, folds=d.folds,
                               kl_samples=d.kl_samples, null_replicates=d.null_replicates)
    rng = np.random.default_rng(a.seed)
    classes, per = scale.data.num_classes, scale.data.train_per_class
    labels = np.repeat(np.arange(classes), per)
    x = rng.normal(size=(classes * per, a.dims)) + 3.0 * rng.normal(size=(classes, a.dims))[labels]
    print(f"{a.scale}: {classes} classes x {per} points, d {a.dims}, {settings.sweeps} sweeps, "
          f"{settings.chains} chains, {settings.folds} folds, kl_samples {settings.kl_samples}")
    print("| measure | own reading (s) | all six readings (s) | readings' extra (s) |")
    print("|---|---|---|---|")
    for measure in MEASURES.values():
        times = []
        for readings in ((measure.reading,), READINGS):
            started = time.perf_counter()
            measure_layer_readings(x, labels, measure, settings, seed=a.seed, readings=readings)
            times.append(time.perf_counter() - started)
        print(f"| {measure.name} | {times[0]:.1f} | {times[1]:.1f} | {times[1] - times[0]:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
