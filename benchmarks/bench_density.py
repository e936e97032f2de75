"""Benchmark of the batched blocked collapsed Gibbs DP-GMM (issue 3).

Reports, per dimensionality: seconds per sweep of ``G`` groups x ``n`` points (b = 4), the projected
time of the paper's 400 sweeps, peak resident memory; a plain one-point-at-a-time numpy CGS (b = 1)
on one group (seconds per point-sweep); sklearn's BayesianGaussianMixture (DP prior) per group:
wall time and held-out log-likelihood next to ours on the same groups.

    python benchmarks/bench_density.py --sweeps 3 --dims 64 16
    python benchmarks/bench_density.py --dims 64 --chains 4 --prior firm --split-merge 4 \
        --no-baselines  # the checked measurement's sampler
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import torch

from modes.components.density import DPGMM
from modes.components.density.component import DISPERSED_STARTS
from modes.components.density.niw import PRIORS


def synthetic(
    groups: int, n: int, d: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per group a 3-component Gaussian mixture with random means and scales."""
    xs = []
    for _ in range(groups):
        means = rng.normal(size=(3, d)) * 2.5
        comp = rng.integers(0, 3, n)
        xs.append(means[comp] + rng.normal(size=(n, d)) * rng.uniform(0.5, 1.5, size=(3, 1))[comp])
    return np.concatenate(xs), np.repeat(np.arange(groups), n)


def plain_cgs_point_sweep(x: np.ndarray, sweeps: int, rng: np.random.Generator) -> float:
    """Seconds per sweep of textbook sequential CGS (b = 1) in numpy, one group."""
    n, d = x.shape
    y = (x - x.mean(0)) / x.std(0)
    kappa0, nu0, psi0 = 0.01, d + 2.0, 6.0 ** (-2.0 / d) * np.eye(d)
    z = rng.integers(0, 6, n)
    stats = {k: [np.sum(z == k), y[z == k].sum(0), y[z == k].T @ y[z == k]] for k in range(6)}
    alpha = 1.0

    def log_pred(x_i: np.ndarray, cnt: float, s1: np.ndarray, s2: np.ndarray) -> float:
        kappa, nu = kappa0 + cnt, nu0 + cnt
        mean = s1 / kappa
        psi = psi0 + s2 - kappa * np.outer(mean, mean)
        df = nu - d + 1
        shape = psi * (kappa + 1) / (kappa * df)
        chol = np.linalg.cholesky(shape)
        sol = np.linalg.solve(chol, x_i - mean)
        return (
            math.lgamma((df + d) / 2)
            - math.lgamma(df / 2)
            - d / 2 * math.log(df * math.pi)
            - np.log(np.diag(chol)).sum()
            - (df + d) / 2 * math.log1p(sol @ sol / df)
        )

    start = time.perf_counter()
    for _ in range(sweeps):
        for i in rng.permutation(n):
            st = stats[z[i]]
            st[0] -= 1
            st[1] -= y[i]
            st[2] -= np.outer(y[i], y[i])
            if st[0] == 0:
                del stats[z[i]]
            keys = list(stats)
            logits = [math.log(stats[k][0]) + log_pred(y[i], *stats[k]) for k in keys]
            logits.append(math.log(alpha) + log_pred(y[i], 0, np.zeros(d), np.zeros((d, d))))
            p = np.exp(np.asarray(logits) - max(logits))
            choice = rng.choice(len(p), p=p / p.sum())
            k = keys[choice] if choice < len(keys) else max(stats, default=-1) + 1
            stats.setdefault(k, [0, np.zeros(d), np.zeros((d, d))])
            stats[k][0] += 1
            stats[k][1] += y[i]
            stats[k][2] += np.outer(y[i], y[i])
            z[i] = k
    return (time.perf_counter() - start) / sweeps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 16])
    parser.add_argument("--block-size", type=int, default=4)
    parser.add_argument("--sweeps", type=int, default=3, help="timed sweeps (paper: 400)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="untimed sweeps first (early sweeps are the slowest: more components)",
    )
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument(
        "--block-update", default="metropolis", choices=["metropolis", "independent"]
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--plain-sweeps", type=int, default=1)
    parser.add_argument("--chains", type=int, default=1,
                        help="chains per group, from the checked measurement's dispersed starts")
    parser.add_argument("--prior", default="authors", choices=sorted(PRIORS))
    parser.add_argument("--split-merge", type=int, default=0,
                        help="split-merge moves per sweep (the checked measurement: 4)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="time our sampler only (skip plain CGS and sklearn)")
    parser.add_argument("--quality-groups", type=int, default=4)
    parser.add_argument("--quality-sweeps", type=int, default=60)
    args = parser.parse_args()
    for name in ("sweeps", "plain_sweeps", "quality_groups", "quality_sweeps", "groups", "points",
                 "chains"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    for d in args.dims:
        x, groups = synthetic(args.groups, args.points, d, rng)
        stamps: list[float] = []
        model = DPGMM(
            sweeps=args.warmup + args.sweeps + 1,
            burn_in=args.warmup + args.sweeps,
            thin=1,
            block_size=args.block_size,
            block_update=args.block_update,
            dtype=args.dtype,
            device=args.device,
            progress=False,
            chains=args.chains,
            starts=DISPERSED_STARTS[: args.chains] if args.chains > 1 else ("random",),
            prior=args.prior,
            split_merge=args.split_merge,
        )
        start = time.perf_counter()
        fitted_big = model.fit(
            x, groups, callback=lambda s, _t, st=stamps: st.append(time.perf_counter()), warn=False
        )
        per_sweep = np.diff([start, *stamps])[args.warmup + 1 :]  # drop init and warm-up
        rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        st = fitted_big.states
        per_state = sum(t[0].nbytes for t in (st.counts, st.mean, st.precision, st.logdet))
        kept_gb = 20 * per_state / 2**30  # the paper keeps (400 - 320) / 4 = 20 states
        print(
            f"[ours]   G={args.groups} n={args.points} d={d} b={args.block_size} {args.dtype} "
            f"{args.block_update}: "
            f"{per_sweep.mean():.3f} s/sweep (min {per_sweep.min():.3f}) -> 400 sweeps "
            f"{400 * per_sweep.mean() / 60:.1f} min; peak RSS so far {rss_gb:.2f} GB "
            f"(+ {kept_gb:.2f} GB for the 20 kept states of a 400-sweep run); "
            f"{args.chains} chain(s), prior {args.prior}, {args.split_merge} split-merge moves: "
            f"{per_sweep.mean() / args.chains:.3f} s/sweep per chain"
        )
        if args.no_baselines:
            continue

        plain = plain_cgs_point_sweep(x[: args.points], args.plain_sweeps, rng)
        print(
            f"[plain]  numpy CGS b=1, 1 group x {args.points} pts: {plain:.3f} s/sweep -> "
            f"{args.groups} groups x 400 sweeps {plain * args.groups * 400 / 3600:.1f} h"
        )

        from sklearn.mixture import BayesianGaussianMixture

        qg = args.quality_groups
        # the same per-group mixtures give the training and the held-out points
        xq_all, gq_all = synthetic(qg, args.points + 200, d, np.random.default_rng(7))
        train_mask = np.tile(np.arange(args.points + 200) < args.points, qg)
        xq, gq, test, gt = (
            xq_all[train_mask],
            gq_all[train_mask],
            xq_all[~train_mask],
            gq_all[~train_mask],
        )
        t0 = time.perf_counter()
        sk_ll = []
        for g in range(qg):
            bgm = BayesianGaussianMixture(
                n_components=10,
                weight_concentration_prior_type="dirichlet_process",
                max_iter=500,
                random_state=0,
            )
            bgm.fit(xq[gq == g])
            sk_ll.append(bgm.score_samples(test[gt == g]).mean())
        sk_time = (time.perf_counter() - t0) / qg
        t0 = time.perf_counter()
        fitted = DPGMM(
            sweeps=args.quality_sweeps,
            burn_in=args.quality_sweeps * 4 // 5,
            thin=2,
            dtype=args.dtype,
            device=args.device,
            progress=False,
        ).fit(xq, gq, warn=False)
        ours_time = time.perf_counter() - t0
        ours_ll = fitted.log_prob_own(test, gt).mean().item()
        print(
            f"[sklearn] BayesianGaussianMixture(DP) per group: {sk_time:.2f} s/group "
            f"(x{args.groups} groups = {sk_time * args.groups:.0f} s); held-out "
            f"{np.mean(sk_ll):.2f} nats/pt"
        )
        print(
            f"[ours]   {qg} groups x {args.quality_sweeps} sweeps: {ours_time:.1f} s total; "
            f"held-out {ours_ll:.2f} nats/pt"
        )


if __name__ == "__main__":
    main()
