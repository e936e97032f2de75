"""Could C1's power gate read the high mode's class-mean spread from the run, as C4's gate reads
its groups' NG sd ratio? How noisy that estimate is on C1's own control inputs.

    OMP_NUM_THREADS=1 python benchmarks/check_c1_spread_estimate.py --draws 100

C1's gate simulates the dip at two groups of equal class-mean spread; the dip's power falls fast
when the high group is wider (``check_world_oracle.py``: 0.95 at equal spreads, 0.59 at 1.25x,
0.26 at 1.5x, at 100 classes and 8 sd). Reading the ratio from the run needs an estimate that is
near 1 where the spreads are equal, and that says nothing wild where there is one mode. Here the
estimate is the ratio of the two component sds of C1's own two-Gaussian fit (the fit behind its
BIC margin and Ashman's D), high-mean component over low, the larger of the two deep stages,
drawn from the controls' fixtures (:mod:`modes.decisions.planted`, 50 examples per class):
two modes with equal class-mean spreads (the pre-registered effect) and one mode (C1's null).
"""

from __future__ import annotations

import argparse

import numpy as np

from modes.decisions import planted
from modes.decisions.two_modes import EFFECT, LayerValues
from modes.evidence import layer_evidence

GRID = 2.0 ** 0.125  # power_gate.round_up's grid: the first step above equal spreads


def high_over_low_sd(values: LayerValues) -> float:
    """The larger over the deep stages of the two-Gaussian fit's sd ratio, high mean over low."""
    ratios = []
    for e in layer_evidence(list(values.log_density), values.labels):
        (m1, m2), (s1, s2) = e.bic.means, e.bic.sds
        ratios.append(s2 / s1 if m2 > m1 else s1 / s2)
    return max(ratios)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=100)
    p.add_argument("--classes", type=int, nargs="+", default=[20, 100])
    a = p.parse_args()
    rng = np.random.default_rng(0)
    print(f"effect: {EFFECT.frac_high:.0%} high, {EFFECT.separation:g} sd; {a.draws} draws each")
    print("| input | classes | median ratio | 90th pct | > 1.09 | > 1.19 | > 1.5 |")
    print("|---|---|---|---|---|---|---|")
    for name, stage in (("two modes, equal spreads", planted.TWO_MODES),
                        ("one mode (null)", planted.ONE_MODE)):
        for n in a.classes:
            r = np.array([high_over_low_sd(planted.layer_values(rng, (stage, stage), n, 50))
                          for _ in range(a.draws)])
            print(f"| {name} | {n} | {np.median(r):.3g} | {np.quantile(r, 0.9):.3g} | "
                  f"{np.mean(r > GRID):.2f} | {np.mean(r > GRID**2):.2f} | "
                  f"{np.mean(r > 1.5):.2f} |", flush=True)


if __name__ == "__main__":
    main()
