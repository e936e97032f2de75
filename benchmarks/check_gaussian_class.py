"""One Gaussian class under the checked measurement's model: held-out density and Eq. 4 vs truth.

    python benchmarks/check_gaussian_class.py --n 500 --d 64 --seeds 0 1 2 --scale full

For each seed, an isotropic and a strongly correlated (eigenvalues j^-2) Gaussian class of n
points is fitted with exactly the checked measurement's DP-GMM as the scale profile configures it
(:func:`modes.components.density.component.dpgmm_config`: the ``firm`` prior, the profile's
sweeps, burn-in, thinning and block size, its dispersed chains pooled, its split-merge moves per
sweep; ``--sweeps`` / ``--split-merge`` override those two), on all n points; it prints the
components each chain ends with, the seconds the fit took, the mean held-out log-density on
2,000 fresh points minus the truth (nats/pt), and Eq. 4 ("occupied" predictive, the checked
measurement's; ``--kl-samples`` draws) minus the truth 0.5 (sum log diag S - log det S).
"""

from __future__ import annotations

import argparse
import time

import attrs
import numpy as np
import torch

from modes.components.density import DPGMM
from modes.components.density.component import dpgmm_config
from modes.experiments.null_artifact import gaussian_classes
from modes.measures import CHECKED
from modes.scale import load_profile


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--scale", default="full", help="profile whose density section is used")
    p.add_argument("--sweeps", type=int, default=None, help="override (burn-in: 2/3 of it)")
    p.add_argument("--split-merge", type=int, default=None, help="override moves per sweep")
    p.add_argument("--kl-samples", type=int, default=4000)
    a = p.parse_args()
    torch.set_num_threads(1)
    sizes = load_profile(a.scale).density
    if a.sweeps is not None:
        sizes = attrs.evolve(sizes, sweeps=a.sweeps, burn_in=a.sweeps * 2 // 3)
    if a.split_merge is not None:
        sizes = attrs.evolve(sizes, split_merge=a.split_merge)
    print(f"{a.scale}: {sizes.sweeps} sweeps (burn-in {sizes.burn_in}, thin {sizes.thin}), "
          f"{sizes.chains} chains, {sizes.split_merge} split-merge moves per sweep, "
          f"prior {CHECKED.prior}")
    print("| seed | spectrum | components (chains) | fit s | held-out - truth | Eq. 4 - truth |")
    print("|---|---|---|---|---|---|")
    for seed in a.seeds:
        classes = gaussian_classes(2, a.n, a.d, seed=seed, gammas=(0.0, 2.0), n_test=2000)
        model = DPGMM(config=dpgmm_config(sizes, CHECKED, seed).sampler, progress=False)
        started = time.perf_counter()
        fitted = model.fit(classes.x.reshape(-1, a.d), np.repeat([0, 1], a.n), warn=False)
        seconds = time.perf_counter() - started
        fitted = fitted.with_predictive(CHECKED.predictive)
        for g, name in enumerate(("isotropic", "j^-2")):
            held = fitted.log_prob(classes.test[g], group=g).mean().item()
            truth = classes.true_log_density(classes.test[g], g).mean()
            rel = fitted.relative_entropy(group=g, num_samples=a.kl_samples, seed=seed)
            comps = fitted.traces.num_components[-1, :, g].tolist()
            print(f"| {seed} | {name} | {comps} | {seconds:.0f} | {held - truth:.2f} | "
                  f"{rel - classes.true_relative_entropy(g):.2f} |", flush=True)


if __name__ == "__main__":
    main()
