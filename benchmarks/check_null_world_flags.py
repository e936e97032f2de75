"""Issue 9's null-world line from ``check_worlds.py --world null --json`` records: per seed and
measure, C1's verdict, which classes sit in the collapsed in-sample state, and whether the
diagnostics flag every one of them.

    python benchmarks/check_worlds.py --world null --classes 30 --n 500 --d 64 --seeds 0 \
        --json s0.json
    python benchmarks/check_null_world_flags.py s0.json s1.json --classes 30 --n 500 --d 64

Every class of a null world is one Gaussian, so its reference is the in-sample mean
log-likelihood of its own maximum-likelihood Gaussian, ``-d/2 (1 + log 2 pi) - log det S / 2``.
A class whose measured mean log-density lies more than ``--collapse`` nats per point above it is
in the collapsed many-component state of issue 9 (a held-out density cannot be; an honest
in-sample one is a few nats above it at n/d of about 8). "flagged" counts such classes that the
record's diagnostics flag (chains disagree or degenerate components). The last columns are C1's
evidence (dip p, BIC margin, Ashman's D) on the references themselves: whether the world's true
class densities, single Gaussians of different spectra, already form two modes.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from modes.decisions.two_modes import ashman_d
from modes.experiments.worlds import gaussian_fit_log_likelihood, null_world
from modes.stats.modality import dip_test, mixture_bic


def gaussian_reference(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per class, the in-sample mean log-likelihood of its maximum-likelihood Gaussian."""
    return np.array([gaussian_fit_log_likelihood(x[labels == c]) for c in np.unique(labels)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("records", nargs="+", help="check_worlds.py --json files of null worlds")
    p.add_argument("--classes", type=int, default=30)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--collapse", type=float, default=30.0,
                   help="nats per point above the class's own Gaussian that count as collapsed")
    a = p.parse_args()
    print("| seed | measure | C1 (raw) | dip p | collapsed classes | of them flagged | flagged "
          "in all | excess of the others, nats/pt | BIC margin, D | truth: dip p, BIC, D |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in a.records:
        with open(path) as fh:
            records = [r for r in json.load(fh) if r["claim"] == "C1"]
        for r in records:
            world = null_world(a.classes, a.n, a.d, int(r["seed"]))
            det = r["details"]
            truth = gaussian_reference(world.x, world.labels)
            excess = np.asarray(det["class_means"]) - truth
            bic = mixture_bic(truth)
            collapsed = excess > a.collapse
            flagged = np.asarray(det["flagged_mask"], bool)
            rest = excess[~collapsed]
            print(f"| {r['seed']} | {r['measure']} | {r['verdict']} ({det['raw_verdict']}) | "
                  f"{max(det['dip_p']):.3g} | {int(collapsed.sum())} | "
                  f"{int((collapsed & flagged).sum())} | {int(flagged.sum())} | "
                  f"{rest.min():+.1f} to {rest.max():+.1f} | {min(det['bic_delta']):.3g}, "
                  f"{min(det['ashman_d']):.3g} | {dip_test(truth).p_value:.3g}, "
                  f"{bic.delta:.3g}, {ashman_d(bic):.3g} |", flush=True)


if __name__ == "__main__":
    main()
