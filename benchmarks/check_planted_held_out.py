"""What held-out densities cost a class of compact components: the checked measure beside
estimators that know the structure.

    python benchmarks/check_planted_held_out.py --n 100 --d 16 --radius 0.05 --seeds 0 1 2 3 4

One planted class per seed (``--components`` isotropic blobs of sd ``--radius`` of the class
scale, :func:`modes.experiments.worlds.blob_class_with_log_density`) and one Gaussian class with
such a class's covariance. Per class: the mean log-density of its points under the truth, and
each estimator's 5-fold cross-fitted (held-out) mean log-density minus it, in nats/pt: sklearn
Gaussian mixtures with the true number of components (spherical, tied and full covariances), one
Gaussian, and the ``checked`` measure (:data:`modes.measures.CHECKED`: the firm prior, dispersed
chains, held-out folds, at this script's sampler sizes, those of ``check_worlds.py``). The gap
between the planted and the Gaussian class's loss is what the checks take off the separation C1's
dip test reads in a two-mode world (``check_worlds.py --world two-mode``).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from scipy import stats
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import KFold

from modes.experiments.worlds import blob_class, blob_class_with_log_density
from modes.measures import CHECKED, SPLIT_MERGE_MOVES, SamplerSettings, measure_layer

COVARIANCES = ("spherical", "tied", "full")


def cross_fitted(x: np.ndarray, components: int, covariance_type: str, seed: int) -> float:
    """Mean 5-fold held-out log-density of ``x`` under a fitted sklearn Gaussian mixture."""
    out = np.empty(len(x))
    for train, test in KFold(5, shuffle=True, random_state=seed).split(x):
        gm = GaussianMixture(components, covariance_type=covariance_type, n_init=3,
                             reg_covar=1e-4, random_state=0).fit(x[train])
        out[test] = gm.score_samples(x[test])
    return float(out.mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--components", type=int, default=5)
    p.add_argument("--radius", type=float, default=0.05)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--sweeps", type=int, default=60)
    p.add_argument("--burn-in", type=int, default=40)
    p.add_argument("--thin", type=int, default=2)
    p.add_argument("--chains", type=int, default=4)
    a = p.parse_args()
    torch.set_num_threads(1)
    settings = SamplerSettings(sweeps=a.sweeps, burn_in=a.burn_in, thin=a.thin, block_size=4,
                               init_components=6, chains=a.chains, dtype="float64", folds=5,
                               kl_samples=16, null_replicates=0, split_merge=SPLIT_MERGE_MOVES)
    names = [f"GMM {a.components} {k}" for k in COVARIANCES] + ["one Gaussian", "checked"]
    print("| class | seed | truth, nats/pt | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for seed in a.seeds:
        rng = np.random.default_rng(seed)
        planted, planted_truth = blob_class_with_log_density(a.n, a.d, a.components, a.radius,
                                                             rng)
        cov = np.cov(blob_class(50 * a.n, a.d, a.components, a.radius, rng), rowvar=False)
        gaussian = rng.multivariate_normal(np.zeros(a.d), cov, size=a.n)
        gaussian_truth = stats.multivariate_normal(np.zeros(a.d), cov).logpdf(gaussian)
        for kind, x, truth in (("planted", planted, planted_truth),
                               ("Gaussian", gaussian, gaussian_truth)):
            losses = [cross_fitted(x, a.components, t, seed) for t in COVARIANCES]
            losses.append(cross_fitted(x, 1, "full", seed))
            checked = measure_layer(x, np.zeros(a.n, int), CHECKED, settings, seed=seed)
            losses.append(float(checked.log_density[0].mean()))
            row = " | ".join(f"{v - truth.mean():+.2f}" for v in losses)
            print(f"| {kind} | {seed} | {truth.mean():.2f} | {row} |", flush=True)


if __name__ == "__main__":
    main()
