"""The sensitivity table of every claim on a small scenario, with each cell's seconds.

    OMP_NUM_THREADS=1 MODES_CACHE=/tmp/sens-cache python benchmarks/bench_sensitivity_table.py \
        [--refit] [--set SECTION.KEY=VALUE ...]

Runs the real pipeline at the tests' tiny scale (the smoke profile with :data:`TINY` overrides:
4 classes of 24 images, 1 training epoch, 8 Gibbs sweeps; memorization, density bins, Fig. 4 /
A.11 subsets and transformers cut to match), decides every claim of
:data:`modes.decisions.on_scenario.DECIDERS` on it and on each choice's variant
(:func:`modes.sensitivity.sensitivity_table`; ``--refit``: also the refitting and retraining
cells, as ``--modes-sensitivity``), and prints the table as the report does and the seconds of
every cell that ran. The artifacts are cached in ``MODES_CACHE`` (default: a new temporary
folder), so a second run shows what the cells cost once the default run is stored.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from modes.decisions.on_scenario import DECIDERS
from modes.report.sensitivity import markdown
from modes.scenario import Scenario, ScenarioConfig
from modes.sensitivity import sensitivity_table
from modes.store import ArtifactStore

TINY = (
    "data.num_classes=4", "data.train_per_class=24", "data.test_per_class=4",
    "train.epochs=1", "train.batch_size=32",
    "density.sweeps=8", "density.burn_in=4", "density.thin=1", "density.dims_shallow=3",
    "density.dims_deep=4", "density.kl_samples=32",
    "memorization.trials=34", "memorization.epochs=2", "memorization.min_per_side=2",
    "robustness.bins=4", "robustness.bin_epochs=1", "robustness.n0=16", "robustness.n=100",
    "robustness.certify_per_bin=6",
    "fitting.per_class_min=2", "fitting.per_class_cap=6", "fitting.heldout_per_subset=8",
    "transformer_blocks=2", "transformer_width=32",
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--refit", action="store_true", help="the refitting cells too")
    p.add_argument("--set", action="append", default=[], help="another override")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    cache = os.environ.get("MODES_CACHE") or tempfile.mkdtemp(prefix="sens-")
    scenario = Scenario(ScenarioConfig(overrides=(*TINY, *a.set), seed=a.seed),
                        ArtifactStore(cache))
    started = time.perf_counter()
    rows = []
    for claim, decider in DECIDERS.items():
        t0 = time.perf_counter()
        rows.append(sensitivity_table(scenario, {claim: decider}, a.refit))
        print(f"{claim}: {time.perf_counter() - t0:.1f} s", flush=True)
    from modes.sensitivity import SensitivityTable

    table = SensitivityTable.merge(rows)
    print(markdown(table))
    print("| claim | default (s) | " + " | ".join(table.choices) + " |")
    print("|" + "---|" * (len(table.choices) + 2))
    for claim in table.claims:
        cells = table.cells[claim]
        print(f"| {claim} | {table.baseline[claim].seconds:.2f} | " + " | ".join(
            f"{cells[c].seconds:.2f}" if c in cells else "" for c in table.choices) + " |")
    print(f"total {time.perf_counter() - started:.0f} s (cache {cache})")


if __name__ == "__main__":
    main()
