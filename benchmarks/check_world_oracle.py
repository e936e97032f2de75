"""C1's evidence from the true class densities of the two-mode blob world, by component radius.

    python benchmarks/check_world_oracle.py --classes 100 --d 16 --n 100 --seeds 0 1 2 3 4

No density model: each planted class (a quarter of the classes) is a mixture of ``--components``
isotropic blobs of sd ``radius`` (of the class scale; :func:`modes.experiments.worlds.blob_class`)
scored under its own true mixture, and each other class a Gaussian with the covariance of such a
mixture scored under that Gaussian, as in :func:`modes.experiments.worlds.two_mode_world`. Per
radius and seed it prints the planted group's class-mean separation from the Gaussian group in
sds of the Gaussian group's class means (C1's pre-registered effect: 8 sd, a quarter of the
classes), the ratio of the two groups' class-mean sds, the dip test's p and the BIC margin of two
Gaussians over one on the class means (C1's rule: dip p < 0.01 and margin > 10 at every deep
stage), and the largest-gap split that C1s and C4 read
(:func:`modes.stats.split.largest_gap_split`): classes on its high side, and how many of them are
planted. This is what C1 could see if the
density model were exact.

Then, for comparison with C1's power gate (whose reference effect has two groups of equal
class-mean sd): the one-stage dip test's rejection rate at alpha 0.01 on ``--classes`` class means,
a quarter of them ``--separation`` sds higher, with the high group's sd multiplied by each of
``--sd-ratios`` (``--reps`` simulations each).
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from modes.experiments.worlds import (
    blob_class,
    blob_class_with_log_density,
    planted_group_shape,
)
from modes.stats.modality import dip_test, mixture_bic
from modes.stats.split import largest_gap_split


def planted_log_density(n: int, d: int, components: int, radius: float,
                        rng: np.random.Generator) -> np.ndarray:
    """Log-densities of n points of one blob class under its own true mixture."""
    return blob_class_with_log_density(n, d, components, radius, rng)[1]


def gaussian_log_density(n: int, d: int, components: int, radius: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Log-densities of n points of a Gaussian class with a blob mixture's covariance."""
    cov = np.cov(blob_class(50 * n, d, components, radius, rng), rowvar=False)
    x = rng.multivariate_normal(np.zeros(d), cov, size=n)
    return np.asarray(stats.multivariate_normal(np.zeros(d), cov).logpdf(x))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--planted-fraction", type=float, default=0.25)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--components", type=int, default=5)
    p.add_argument("--radii", type=float, nargs="+", default=[0.3, 0.2, 0.15, 0.1])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--separation", type=float, default=8.0)
    p.add_argument("--sd-ratios", type=float, nargs="+", default=[1.0, 1.25, 1.5, 1.75])
    p.add_argument("--reps", type=int, default=400)
    a = p.parse_args()
    print("| radius | seed | separation (sd) | sd ratio planted / Gaussian | dip p | BIC margin | "
          "gap split: high side (planted) |")
    print("|---|---|---|---|---|---|---|")
    for radius in a.radii:
        for seed in a.seeds:
            rng = np.random.default_rng(seed)
            planted = np.zeros(a.classes, bool)
            planted[rng.permutation(a.classes)[:round(a.planted_fraction * a.classes)]] = True
            means = np.array([
                (planted_log_density if is_planted else gaussian_log_density)(
                    a.n, a.d, a.components, radius, rng).mean() for is_planted in planted])
            shape = planted_group_shape(means, planted)
            split = largest_gap_split(means).high
            print(f"| {radius} | {seed} | {shape.separation:.1f} | "
                  f"{shape.spread_ratio:.2f} | {dip_test(means).p_value:.3f} | "
                  f"{mixture_bic(means).delta:.1f} | {split.sum()} ({(split & planted).sum()} of "
                  f"{planted.sum()}) |", flush=True)
    print("\n| high group's sd / low group's | dip p < 0.01 (one stage) |")
    print("|---|---|")
    n_high = round(a.planted_fraction * a.classes)
    high = np.arange(a.classes) < n_high
    for ratio in a.sd_ratios:
        rng = np.random.default_rng(0)
        hits = sum(dip_test(rng.standard_normal(a.classes) * np.where(high, ratio, 1.0)
                            + a.separation * high).p_value < 0.01 for _ in range(a.reps))
        print(f"| {ratio} | {hits / a.reps:.3f} ({hits}/{a.reps}) |", flush=True)


if __name__ == "__main__":
    main()
