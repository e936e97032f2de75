"""What the power gates of C4-C9 cost a claim, cold (first design) and cached.

    OMP_NUM_THREADS=1 python benchmarks/bench_power_gates.py

Each gated decision simulates its own power once per design (``power_gate.GATE_REPS``
simulations, ``functools.lru_cache``). This times every claim's decision on a planted input
shaped like the smoke profile (20 classes, 8 bins of 250 examples, 30 certified inputs per bin)
and like the full one (100 classes, 50 bins), first cold (the simulation runs) and then on a
second draw of the same design (cached when the design's rounded numbers agree), and prints the
gate's power and verdict. The cold minus cached time is what the gate adds to a claim.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from modes.decisions import (
    class_fitting,
    complexity,
    fscore_tracking,
    generative,
    memorization_jump,
    planted,
    robustness_drop,
)

Case = tuple[str, Callable[[Any], Any], Callable[[np.random.Generator], Any]]

CASES: list[Case] = [
    ("C4 smoke", complexity.decide_complexity,
     lambda rng: planted.complexity_input(rng, 20, ng_shift=3.0)),
    ("C4 full", complexity.decide_complexity,
     lambda rng: planted.complexity_input(rng, 100, ng_shift=3.0)),
    ("C5 smoke", memorization_jump.decide_memorization_jump,
     lambda rng: planted.memorization_bins(rng, 8, 250, jump=0.15, slope_before=-0.006)),
    ("C5 full", memorization_jump.decide_memorization_jump,
     lambda rng: planted.memorization_bins(rng, 50, 1000, jump=0.15, slope_before=-0.006)),
    ("C6 smoke", fscore_tracking.decide_fscore_tracking,
     lambda rng: planted.tracking_bins(rng, 8, 3.0)),
    ("C6 full", fscore_tracking.decide_fscore_tracking,
     lambda rng: planted.tracking_bins(rng, 50, 3.0)),
    ("C7 smoke", robustness_drop.decide_robustness_drop,
     lambda rng: planted.robustness_bins(rng, 8, 30, radius_jump=-0.8, fscore_jump=-0.5,
                                         abstain_after=0.8)),
    ("C7 full", robustness_drop.decide_robustness_drop,
     lambda rng: planted.robustness_bins(rng, 50, 1000, radius_jump=-0.1, fscore_jump=-0.1,
                                         abstain_after=0.55)),
    ("C8 smoke", class_fitting.decide_class_fitting,
     lambda rng: planted.subset_kl(rng, 19, memorized_shift=-1.0)),
    ("C8 full", class_fitting.decide_class_fitting,
     lambda rng: planted.subset_kl(rng, 60, memorized_shift=-0.5, subset_sizes=(53, 61, 100))),
    ("C9 smoke", generative.decide_generative,
     lambda rng: planted.generative_predictions(rng, 20, 100)),
    ("C9 full", generative.decide_generative,
     lambda rng: planted.generative_predictions(rng, 100, 1000)),
]


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'case':10} {'cold s':>8} {'cached s':>9} {'power':>6} {'lower':>6}  verdict")
    for name, decide, draw in CASES:
        first, second = draw(rng), draw(rng)
        started = time.perf_counter()
        result = decide(first)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        decide(second)
        cached = time.perf_counter() - started
        power = result.details.get("power", {})
        print(f"{name:10} {cold:8.2f} {cached:9.3f} {power.get('power', float('nan')):6.3f} "
              f"{power.get('ci_low', float('nan')):6.3f}  {result.verdict}")


if __name__ == "__main__":
    main()
