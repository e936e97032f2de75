"""Measurement table of the density model on single-Gaussian classes (sampler-artifact issue).

For every (n, d, prior, sweeps) it fits the same null classes (one Gaussian each, covariance
spectra from isotropic to strongly correlated) with chains started at K0 = 6 random components and
at K0 = 1, and prints, per K0: the fraction of chains in many-component states, their median
component count, the exact log joint of the state reached minus that of the one-component
partition (positive: the posterior prefers it, so one-component chains are trapped; negative: the
many-component chains are), in-sample and held-out mean log-density minus the truth, and the error
of Eq. 4. Rows go to stdout as a markdown table and, with ``--json``, to a file.

    python benchmarks/bench_null_artifact.py --n 100 250 500 --d 16 32 64 --sweeps 60 400
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from modes.components.density.niw import PRIORS
from modes.experiments.null_artifact import (
    DEFAULT_GAMMAS,
    ArtifactSetting,
    gaussian_classes,
    run_setting,
)

COLUMNS = ("frac_many", "components_median", "pref_many_median", "pref_few_median",
           "in_sample_minus_truth", "held_out_minus_truth", "held_out_worst",
           "rel_entropy_error", "rel_entropy_worst", "rel_entropy_occupied_error",
           "rel_entropy_occupied_worst")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 250, 500])
    parser.add_argument("--d", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--sweeps", type=int, nargs="+", default=[60, 400])
    parser.add_argument("--priors", nargs="+", default=sorted(PRIORS), choices=sorted(PRIORS))
    parser.add_argument("--chains-per-start", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args()
    for value, name in ((args.n, "--n"), (args.d, "--d"), (args.sweeps, "--sweeps")):
        if min(value) < 1:
            raise SystemExit(f"{name} values must be positive, got {value}")
    torch.set_num_threads(args.threads)
    rows = []
    print("| prior | n | d | sweeps | K0 | " + " | ".join(COLUMNS) + " | s |")
    print("|" + "---|" * (len(COLUMNS) + 6))
    for d in args.d:
        for n in args.n:
            classes = gaussian_classes(len(DEFAULT_GAMMAS), n, d, seed=args.seed,
                                       gammas=DEFAULT_GAMMAS)
            for prior in args.priors:
                for sweeps in args.sweeps:
                    setting = ArtifactSetting(
                        n=n, d=d, prior=prior, starts=("random", "one"),
                        chains=2 * args.chains_per_start, sweeps=sweeps,
                        burn_in=sweeps - sweeps // 5, thin=max(1, sweeps // 20), seed=args.seed,
                    )
                    started = time.perf_counter()
                    outcome = run_setting(setting, classes)
                    seconds = time.perf_counter() - started
                    for k0, start in ((6, "random"), (1, "one")):
                        summary = outcome.summary(outcome.start == start)
                        row = {"prior": prior, "n": n, "d": d, "sweeps": sweeps, "K0": k0,
                               **summary, "seconds": seconds}
                        rows.append(row)
                        cells = " | ".join(f"{summary[c]:.3g}" for c in COLUMNS)
                        print(f"| {prior} | {n} | {d} | {sweeps} | {k0} | {cells} | "
                              f"{seconds:.0f} |", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1, default=float)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
