"""Why :func:`modes.stats.modality.mixture_bic` runs its own 1-D two-component EM.

    python benchmarks/bench_mixture_bic.py --repeats 20

Times one :func:`mixture_bic` call (the numpy EM of scikit-learn's ``GaussianMixture``, every
start at once) against the same fit by ``GaussianMixture`` itself (:func:`sklearn_mixture_bic`:
one fit per start, the same starts, floor and stopping rule;
``tests/stats/test_stats_mixture_em.py`` pins that they agree) on class-mean-like samples:
unimodal and two-mode, 20 and 100 classes. The controls and matched nulls call it thousands of
times per run, so the per-call cost is what matters. Reports the median seconds per call of each
and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from modes.stats.modality import mixture_bic, sklearn_mixture_bic


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    print(f"{'sample':<22}{'numpy EM [ms]':>15}{'sklearn [ms]':>14}{'ratio':>8}")
    for n in (20, 100):
        for shape, shift in (("unimodal", 0.0), ("two modes", 6.0)):
            x = rng.standard_normal(n) + shift * (np.arange(n) < n // 4)
            ours = _median_seconds(lambda x=x: mixture_bic(x), a.repeats)
            theirs = _median_seconds(lambda x=x: sklearn_mixture_bic(x), a.repeats)
            print(f"{shape + f', n={n}':<22}{1e3 * ours:>15.2f}{1e3 * theirs:>14.2f}"
                  f"{theirs / ours:>8.1f}")


if __name__ == "__main__":
    main()
