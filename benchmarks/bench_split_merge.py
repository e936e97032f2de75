"""Cost of split-merge moves per sweep, beside the Gibbs sweep they follow (same process, medians).

    python benchmarks/bench_split_merge.py --classes 30 --n 300 --d 16 --chains 4 --moves 4

Fits nothing: builds the sampler data of a planted world's classes (firm prior, ``"within"``
whitening, ``chains`` rows per class), runs ``--warm`` sweeps to leave the start, then times
``--reps`` Gibbs sweeps (b = 4, Metropolis) and, separately, ``--moves`` split-merge moves after
each, and prints the median seconds of each and the moves' acceptance.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from modes.components.density.model import DPGMMConfig, _sampler_data, prepare
from modes.components.density.sampler import end_of_sweep, init_state, sweep
from modes.components.density.split_merge import split_merge
from modes.experiments.worlds import two_mode_world


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--classes", type=int, default=30)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--moves", type=int, default=4)
    p.add_argument("--warm", type=int, default=5)
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    world = two_mode_world(a.classes, a.n, a.d, seed=0)
    cfg = DPGMMConfig(chains=a.chains, prior="firm", split_merge=a.moves)
    prep = prepare(world.x, world.labels, cfg.prior.whiten, cfg.prior.max_clusters)
    data = _sampler_data(prep, cfg, torch.float64, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    state = init_state(data, gen)
    gibbs, moves, accepted, proposed = [], [], 0, 0
    for rep in range(a.warm + a.reps):
        start = time.perf_counter()
        state = sweep(state, data, cfg.block_size, gen, metropolis=True)
        mid = time.perf_counter()
        state, counts = split_merge(state, data, a.moves, gen)
        end = time.perf_counter()
        state, _ = end_of_sweep(state, data, gen, do_refresh=(rep + 1) % 10 == 0)
        if rep >= a.warm:
            gibbs.append(mid - start)
            moves.append(end - mid)
            accepted += int((counts.splits_accepted + counts.merges_accepted).sum())
            proposed += a.moves * data.y.shape[0]
    g, m = statistics.median(gibbs), statistics.median(moves)
    print(f"{a.classes} classes x {a.chains} chains ({data.y.shape[0]} rows), n {a.n}, d {a.d}: "
          f"Gibbs sweep {g:.3f} s, {a.moves} split-merge moves {m:.3f} s (median of {a.reps}; "
          f"+{100 * m / g:.0f}%), {accepted} of {proposed} moves accepted after {a.warm} sweeps")


if __name__ == "__main__":
    main()
