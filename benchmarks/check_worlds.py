"""C1 on planted representation worlds, many seeds: how often each verdict comes out.

    python benchmarks/check_worlds.py --world null --classes 30 --n 500 --d 64 --seeds 0 1 2
    python benchmarks/check_worlds.py --world two-mode --classes 20 --n 300 --d 16 --seeds 0 1
    python benchmarks/check_worlds.py --world two-mode --planted blobs --classes 30 --n 300 \
        --d 16 --folds 3 --seeds 0 1 --measures checked --oracle
    python benchmarks/check_worlds.py --world two-mode --classes 100 --n 100 --d 16 \
        --planted-fraction 0.25 --radius 0.05 --measures checked --oracle --seeds 0 1 2 3 4

One line per (seed, measure, claim: C1 two modes, C1s lower spread, C4 more non-Gaussian, not
more compact): the gated verdict, the raw
decision, the number of flagged classes (degenerate, chains disagree), the matched-null rate and
the note; for C1 its evidence (dip p, BIC margin, Ashman's D) and, planted vs Gaussian classes,
the chains-disagree flags and class means; then the verdict counts per measure and claim.
``--split-merge`` sets the checked measure's moves per sweep (0: Gibbs only); ``--oracle`` also
decides C1's evidence on near-true class means. ``--json`` keeps every record.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from typing import Any

import attrs
import numpy as np
import torch

from modes.experiments.worlds import (
    PLANTED,
    World,
    decide_world,
    gaussian_fit_log_likelihood,
    null_world,
    planted_group_shape,
    two_mode_world,
)
from modes.measures import MEASURES, SPLIT_MERGE_MOVES, SamplerSettings
from modes.report.records import result_to_dict


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", choices=("null", "two-mode"), required=True)
    p.add_argument("--classes", type=int, default=30)
    p.add_argument("--planted", choices=sorted(PLANTED), default="blobs",
                   help="what the planted classes of the two-mode world are made of")
    p.add_argument("--components", type=int, default=5, help="per planted class")
    p.add_argument("--planted-fraction", type=float, default=0.3)
    p.add_argument("--radius", type=float, default=0.3,
                   help="planted components' sd (blobs) or radius (shells), of the class scale")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--measures", nargs="+", default=list(MEASURES), choices=list(MEASURES))
    p.add_argument("--sweeps", type=int, default=60)
    p.add_argument("--burn-in", type=int, default=40)
    p.add_argument("--thin", type=int, default=2)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--null-replicates", type=int, default=4)
    p.add_argument("--kl-samples", type=int, default=256)
    p.add_argument("--split-merge", type=int, default=SPLIT_MERGE_MOVES,
                   help="split-merge moves per sweep of the checked measure (0: Gibbs only)")
    p.add_argument("--oracle", action="store_true",
                   help="also decide C1's evidence on near-true class mean log-densities")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    settings = SamplerSettings(sweeps=a.sweeps, burn_in=a.burn_in, thin=a.thin, block_size=4,
                               init_components=6, chains=a.chains, dtype="float64",
                               folds=a.folds, kl_samples=a.kl_samples,
                               null_replicates=a.null_replicates, split_merge=a.split_merge)
    def make(classes: int, n: int, d: int, seed: int) -> World:
        if a.world == "null":
            return null_world(classes, n, d, seed)
        return two_mode_world(classes, n, d, seed, planted_fraction=a.planted_fraction,
                              components=a.components, radius=a.radius,
                              kind=a.planted)

    counts: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
        collections.Counter)
    records = []
    for seed in a.seeds:
        world = make(a.classes, a.n, a.d, seed)
        if a.oracle:
            print(f"seed {seed} oracle: {_oracle(world, a.components)}", flush=True)
        for name in a.measures:
            started = time.perf_counter()
            results = decide_world(world, MEASURES[name], settings, seed)
            took = time.perf_counter() - started
            for claim, r in results.items():
                counts[name, claim][r.verdict.value] += 1
                det = r.details
                print(f"seed {seed} {name} {claim}: {r.verdict} (raw {det['raw_verdict']}; "
                      f"p {r.p_value:.3g}, {r.prereg.effect_name} {r.effect_size:.3g}; "
                      f"degenerate {sum(det['degenerate_mask'])}, chains disagree "
                      f"{sum(det['chains_disagree_mask'])}; null rate {det['null_rate']}) "
                      f"{took:.0f}s | {r.explanation}", flush=True)
                if claim == "C4":
                    ng = np.array(det["relative_entropy"]) - np.array(det["total_correlation"])
                    planted_ng, other_ng = ng[world.planted], ng[~world.planted]
                    print(f"  C4 non-Gaussianity: planted {_fmt(list(planted_ng))}, Gaussian "
                          f"median {np.median(other_ng):.3g}; split {det.get('n_high')} high",
                          flush=True)
                if claim == "C1":
                    print(f"  C1 evidence: dip p {_fmt(det['dip_p'])}, BIC margin "
                          f"{_fmt(det['bic_delta'])}, Ashman's D {_fmt(det['ashman_d'])}",
                          flush=True)
                    print("  " + _by_kind(world, det), flush=True)
                records.append({"seed": seed, "measure": name, "claim": claim,
                                "planted": world.planted.tolist(),
                                **result_to_dict(attrs.evolve(r, figure_specs=()))})
    for (name, claim), c in counts.items():
        print(f"{name} {claim}: {dict(c)} over {len(a.seeds)} seeds")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(records, fh, indent=1)


def _oracle(world: World, components: int) -> str:
    """C1's evidence on near-true class means: a Gaussian class's entropy from its own covariance
    (:func:`gaussian_fit_log_likelihood`), a planted class's in-sample log-likelihood per point
    under a ``components``-blob spherical Gaussian mixture (sklearn). Whether the world, at its
    number of classes, can show two modes to the dip test at all, whatever the density model."""
    from sklearn.mixture import GaussianMixture

    from modes.decisions.two_modes import ashman_d
    from modes.stats.modality import dip_test, mixture_bic

    means = []
    for c in np.unique(world.labels):
        x = world.x[world.labels == c]
        if world.planted[c]:
            gm = GaussianMixture(components, covariance_type="spherical", random_state=0,
                                 n_init=3).fit(x)
            means.append(float(gm.score(x)))
        else:
            means.append(gaussian_fit_log_likelihood(x))
    v = np.asarray(means)
    bic = mixture_bic(v)
    text = (f"dip p {dip_test(v).p_value:.3g}, BIC margin {bic.delta:.3g}, Ashman's D "
            f"{ashman_d(bic):.3g}")
    if not world.planted.any():  # a null world has no planted group
        return text
    shape = planted_group_shape(v, world.planted)
    return (f"{text}; planted {np.median(v[world.planted]):.2f}, gaussian "
            f"{np.median(v[~world.planted]):.2f} (medians); planted group "
            f"{shape.separation:.1f} sd higher, {shape.spread_ratio:.2f}x as spread")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.3g}" for v in values)


def _by_kind(world: World, details: dict[str, Any]) -> str:
    """Planted vs Gaussian classes: chains-disagree flags and class means (nats/pt), and the
    planted group's shape among the class means."""
    means = np.asarray(details["class_means"])
    disagree = np.asarray(details["chains_disagree_mask"], bool)
    parts = []
    for kind, mask in (("planted", world.planted), ("gaussian", ~world.planted)):
        if not mask.any():  # a null world has no planted class
            continue
        parts.append(f"{kind}: {int(mask.sum())} classes, chains disagree "
                     f"{int(disagree[mask].sum())}, class means {means[mask].min():.2f} to "
                     f"{means[mask].max():.2f} (median {np.median(means[mask]):.2f})")
    if world.planted.any():
        shape = planted_group_shape(means, world.planted)
        parts.append(f"planted group {shape.separation:.1f} Gaussian class-mean sds higher, "
                     f"{shape.spread_ratio:.2f}x as spread (C1's gate: 8, 1x)")
    return "; ".join(parts)


if __name__ == "__main__":
    main()
