"""False-positive rates and power of the C5-C9 decisions on planted inputs, at alpha 0.01.

    python benchmarks/calibrate_decisions.py --reps 4000 --power-reps 500
    python benchmarks/calibrate_decisions.py --only C8 --reps 10000

One line per case: claim, null or planted, the case, the rate with its exact 95% CI, and for
nulls the pass bound alpha + 2 Monte Carlo se. Then the former procedures on the same fixtures,
for the numbers quoted in the decisions' docstrings: the Wilcoxon over class pairs (C8), the
class bootstrap of the stage growth (C8), OLS vs inverse-variance weights (C5) and weights from
few radii (C7). The tests in ``tests/decisions`` run the same cases with fewer repetitions.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from modes.decisions import planted
from modes.decisions.calibration import Rate, replication_rate, size_bound
from modes.decisions.class_fitting import decide_class_fitting
from modes.decisions.fscore_tracking import decide_fscore_tracking
from modes.decisions.generative import decide_generative
from modes.decisions.memorization_jump import decide_memorization_jump
from modes.decisions.robustness_drop import decide_robustness_drop
from modes.decisions.segmented import bin_transition, bin_weights, segmented_fit
from modes.stats.association import stage_growth

ALPHA = 0.01
Case = tuple[str, str, str, Callable[[Any], Any], Callable[[np.random.Generator], Any]]


def _generative(inp: Any) -> Any:
    return decide_generative(inp, with_f_scores=False)


C7_STRONG: dict[str, Any] = {"radius_jump": -0.8, "fscore_jump": -0.5, "abstain_after": 0.8}
KL_STRONG: dict[str, Any] = {"stage_levels": (1.0, 2.0, 12.0, 13.0), "stage_class_sd": 0.1}


def cases() -> list[Case]:
    m, r, t = planted.memorization_bins, planted.robustness_bins, planted.tracking_bins
    kl, g = planted.subset_kl, planted.generative_predictions
    c5, c6, c7, c8 = (decide_memorization_jump, decide_fscore_tracking, decide_robustness_drop,
                      decide_class_fitting)
    return [
        ("C5", "null", "no jump, 8 bins x 250", c5, lambda rng: m(rng, 8, 250)),
        ("C5", "null", "no jump, 50 bins x 1000", c5, lambda rng: m(rng, 50, 1000)),
        ("C5", "null", "flat before, jump 0.15, 8 bins", c5,
         lambda rng: m(rng, 8, jump=0.15, slope_before=0.0)),
        ("C5", "planted", "jump 0.15, fall 0.1, 8 bins x 250", c5,
         lambda rng: m(rng, 8, 250, jump=0.15, slope_before=-0.006)),
        ("C5", "planted", "jump 0.1, fall 0.1, 8 bins x 250", c5,
         lambda rng: m(rng, 8, 250, jump=0.1, slope_before=-0.006)),
        ("C5", "planted", "jump 0.1, fall 0.1, 50 bins x 1000", c5,
         lambda rng: m(rng, 50, 1000, jump=0.1, slope_before=-0.006)),
        ("C6", "null", "unrelated F-score, 8 bins", c6, lambda rng: t(rng, 8, 0.0)),
        ("C6", "null", "unrelated F-score, 50 bins", c6, lambda rng: t(rng, 50, 0.0)),
        ("C6", "planted", "coupling 3, 8 bins", c6, lambda rng: t(rng, 8, 3.0)),
        ("C6", "planted", "coupling 1, 50 bins", c6, lambda rng: t(rng, 50, 1.0)),
        *(("C7", "null", f"{part} at null, others strong, 8 bins x 30", decide_robustness_drop,
           (lambda p: lambda rng: r(rng, 8, 30, **{**C7_STRONG, p: 0.4 if p == "abstain_after"
                                                   else 0.0}))(part))
          for part in ("radius_jump", "fscore_jump", "abstain_after")),
        *(("C7", "null", f"{part} at null, others strong, 50 bins x 1000", c7,
           (lambda p: lambda rng: r(rng, 50, 1000, **{**C7_STRONG, p: 0.4
                                                      if p == "abstain_after" else 0.0}))(part))
          for part in ("radius_jump", "fscore_jump", "abstain_after")),
        ("C7", "planted", "radius -0.1, F -0.08, abstain +0.05, 50 bins x 1000", c7,
         lambda rng: r(rng, 50, 1000, radius_jump=-0.1, fscore_jump=-0.08, abstain_after=0.45)),
        ("C7", "planted", "radius -0.3, F -0.2, abstain 0.4 -> 0.6, 8 bins x 30", c7,
         lambda rng: r(rng, 8, 30, radius_jump=-0.3, fscore_jump=-0.2, abstain_after=0.6)),
        ("C7", "planted", "radius -0.8, F -0.5, abstain 0.4 -> 0.8, 8 bins x 30", c7,
         lambda rng: r(rng, 8, 30, **C7_STRONG)),
        *(("C8", "null", f"memorized = typical, class-by-subset sd {sd}, 19 classes", c8,
           (lambda s: lambda rng: kl(rng, 19, subset_class_sd=s, **KL_STRONG))(sd))
          for sd in (0.1, 0.3)),
        ("C8", "null", "increase 2->3 = 3->4, class-by-stage sd 0.3, 19 classes", c8,
         lambda rng: kl(rng, 19, stage_levels=(1.0, 2.0, 5.0, 8.0), stage_class_sd=0.3,
                        memorized_shift=-0.7, subset_class_sd=0.1)),
        ("C8", "planted", "memorized x exp(-0.7), 19 classes", c8,
         lambda rng: kl(rng, 19, memorized_shift=-0.7, subset_class_sd=0.1, **KL_STRONG)),
        ("C8", "planted", "memorized x exp(-1.0), 19 classes", c8,
         lambda rng: kl(rng, 19, memorized_shift=-1.0, subset_class_sd=0.1, **KL_STRONG)),
        ("C8", "planted", "memorized x exp(-0.3), 19 classes", c8,
         lambda rng: kl(rng, 19, memorized_shift=-0.3, subset_class_sd=0.1, **KL_STRONG)),
        ("C8", "planted", "memorized x exp(-0.3), 100 classes", c8,
         lambda rng: kl(rng, 100, memorized_shift=-0.3, subset_class_sd=0.1, **KL_STRONG)),
        ("C9", "null", "recovery 0.5, 20 classes x 100", _generative,
         lambda rng: g(rng, 20, 100, stage_accuracy=(0.25, 0.3, 0.45, 0.5))),
        ("C9", "null", "memorized = unmemorized, 20 classes x 100", _generative,
         lambda rng: g(rng, 20, 100, memorized_offset=0.0, unmemorized_offset=0.0)),
        ("C9", "null", "gain 2->3 = 3->4, 20 classes x 100", _generative,
         lambda rng: g(rng, 20, 100, stage_accuracy=(0.3, 0.4, 0.6, 0.8))),
        ("C9", "planted", "default (offsets -0.15/+0.05), 20 classes x 100", _generative,
         lambda rng: g(rng, 20, 100)),
        ("C9", "planted", "memorized -0.25, 20 classes x 100", _generative,
         lambda rng: g(rng, 20, 100, stage_accuracy=(0.35, 0.4, 0.8, 0.87),
                       memorized_offset=-0.25)),
        ("C9", "planted", "memorized -0.15, 100 classes x 333", _generative,
         lambda rng: g(rng, 100, 333, stage_accuracy=(0.35, 0.4, 0.8, 0.87))),
    ]


def former(reps: int) -> list[tuple[str, Rate]]:
    """The procedures the decisions replaced, on the same fixtures, at alpha."""
    rng = np.random.default_rng(7)
    out = []
    for sd in (0.1, 0.3):
        hits = 0
        for _ in range(reps):
            inp = planted.subset_kl(rng, 19, subset_class_sd=sd, **KL_STRONG)
            # the subsets now have their own classes: pairs are unpaired (Mann-Whitney)
            hits += stats.mannwhitneyu(inp.per_pair("memorized")[-1],
                                       inp.per_pair("typical")[-1],
                                       alternative="less").pvalue < ALPHA
        out.append((f"C8 pair-level Mann-Whitney over 342 + 342 pairs, null, class-by-subset "
                    f"sd {sd}",
                    Rate(int(hits), reps)))
    hits = 0
    for i in range(reps):
        inp = planted.subset_kl(rng, 19, stage_levels=(1.0, 2.0, 5.0, 8.0), stage_class_sd=0.3)
        pairs = inp.pairs("random")
        hits += stage_growth(inp.per_pair("random"), pairs, 1, n_boot=1000,
                             seed=i).p_value < ALPHA
    out.append(("C8 former class bootstrap of the stage growth, null, class-by-stage sd 0.3",
                Rate(int(hits), reps)))
    for weighted in (False, True):
        hits = 0
        for _ in range(reps):
            b = planted.memorization_bins(rng, 8, 250)
            w = bin_weights(b.memorization_sd, b.count)[0] if weighted else None
            t = bin_transition(b.log_density, b.high_fraction)
            fit = segmented_fit(b.log_density, b.memorization_mean, t, "greater", weights=w)
            hits += fit.jump.p_value < ALPHA
        how = "count/sd^2 weights" if weighted else "OLS"
        out.append((f"C5 jump test alone with {how}, null, 8 bins x 250, spread x1.5 in high "
                    "bins", Rate(hits, reps)))
    hits = 0
    for _ in range(reps):
        rb = planted.robustness_bins(rng, 50, 30)
        k = rb.answered
        keep = k >= 2
        t = bin_transition(rb.log_density, rb.high_fraction)
        fit = segmented_fit(rb.log_density[keep], rb.radius_mean[keep], t, "less",
                            weights=k[keep] / rb.radius_sd[keep] ** 2)
        hits += fit.jump.p_value < ALPHA
    out.append(("C7 radius jump with count/sd^2 from ~18 radii per bin, null, 50 bins",
                Rate(hits, reps)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=4000, help="repetitions per null")
    p.add_argument("--power-reps", type=int, default=500, help="repetitions per planted case")
    p.add_argument("--former-reps", type=int, default=2000)
    p.add_argument("--only", nargs="*", default=None, help="claims to run (C5 ... C9)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for claim, kind, label, decide, make in cases():
        if a.only and claim not in a.only:
            continue
        reps = a.reps if kind == "null" else a.power_reps
        started = time.perf_counter()
        rate = replication_rate(decide, make, reps, a.seed)
        bound = (f"; bound {size_bound(ALPHA, reps):.4f} "
                 f"{'ok' if rate.rate <= size_bound(ALPHA, reps) else 'EXCEEDED'}"
                 if kind == "null" else "")
        print(f"{claim} {kind:7s} {label}: {rate}{bound} "
              f"[{time.perf_counter() - started:.0f}s]", flush=True)
    if not a.only:
        for label, rate in former(a.former_reps):
            print(f"{label}: {rate}", flush=True)


if __name__ == "__main__":
    main()
