"""C1, C1s, C2 and C4 end to end on planted-world representation files, many seeds: how often
each verdict comes out.

    python benchmarks/check_world_files.py --seeds 20 --classes 20 --n 100 --scale smoke
    python benchmarks/check_world_files.py --seeds 1 --classes 6 --n 30 --scale tiny  # a try

For every seed and world (:mod:`modes.experiments.world_files`: ``null``, every class one
Gaussian at every stage; ``two-mode``, a fraction of the classes made of compact components in the
deep stages) it writes the world's representations file and runs

    pytest claims/test_c01_two_modes_deep.py claims/test_c02_no_modes_shallow.py
           claims/test_c04_not_compact_but_complex.py --modes-representations FILE \
           --modes-scale SCALE [--modes-set SECTION.KEY=VALUE ...]

in this process (the real reducer, sampler, matched nulls and decisions; a reports directory per
run, pytest's output in its ``pytest.log``), reads the verdicts from its JUnit XML,
writes the run's record for the report (``--records``, :mod:`modes.report.worlds`: runs of one
design, from any number of processes, form one table there) and prints one line per run, then
the table of this process's runs: verdict counts per world and claim, family-wise (Holm over the
claims run, as the report shows them) and, in brackets, the claims' own. Stage dims default to the
scale's SVD dims, so the reducer keeps every direction of the world. ``tiny`` is this script's
name for smoke with overrides (8 sweeps, 2 chains, 2 folds, 1 matched null, SVD to 3 / 4 dims,
given to pytest as ``--modes-set``), only to check that everything runs.

Every run uses one artifact cache (``--cache-dir``; by default the work directory's ``cache``).
A layer's fits on a representations file are keyed by the labels and that stage, so the
two-mode world of a seed loads the shallow-stage fits of the null world of the same seed (the same
arrays), whichever process fitted them first: give processes that split the worlds or seeds one
``--cache-dir``.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from modes import scale
from modes.experiments.world_files import WORLDS, scale_dims, write_world_file
from modes.experiments.worlds import PLANTED
from modes.report.worlds import WorldDesign, WorldRun, WorldTable, markdown, write_run

CLAIMS_DIR = Path(__file__).resolve().parents[1] / "claims"
# the claims this script reads and the claim file each one's test lives in
CLAIM_FILES = {"C1": "test_c01_two_modes_deep.py", "C1s": "test_c01_two_modes_deep.py",
               "C2": "test_c02_no_modes_shallow.py", "C4": "test_c04_not_compact_but_complex.py"}
CLAIMS = tuple(CLAIM_FILES)
# --scale tiny: the smoke profile with these overrides
TINY = ("smoke", ("density.sweeps=8", "density.burn_in=4", "density.thin=1", "density.chains=2",
                  "density.folds=2", "density.null_replicates=1", "density.dims_shallow=3",
                  "density.dims_deep=4", "density.kl_samples=32"))


def profile_of(name: str) -> tuple[str, tuple[str, ...]]:
    """A shipped profile's name and no overrides, or ``tiny``'s (:data:`TINY`)."""
    return TINY if name == "tiny" else (name, ())


def run_claims(path: Path, workdir: Path, cache: Path, scale_name: str, seed: int,
               claims: tuple[str, ...] = CLAIMS) -> tuple[dict[str, str], dict[str, str]]:
    """The family-wise and own verdicts of ``claims`` (their claim files' tests: C1 and C1s run
    together) on representations file ``path``, with artifact cache ``cache`` (pytest's output
    goes to ``workdir/pytest.log``)."""
    junit = workdir / "junit.xml"
    profile, overrides = profile_of(scale_name)
    with open(workdir / "pytest.log", "w") as log, contextlib.redirect_stdout(log):
        files = dict.fromkeys(CLAIM_FILES[c] for c in claims)
        pytest.main([*(str(CLAIMS_DIR / f) for f in files), "-p", "no:xdist",
                     "-p", "no:cacheprovider", "--modes-representations", str(path),
                     "--modes-scale", profile, *(f"--modes-set={o}" for o in overrides),
                     "--modes-seed", str(seed), "--modes-cache-dir", str(cache),
                     "--modes-reports-dir", str(workdir / "reports"), f"--junitxml={junit}"])
    suite = ET.parse(junit).getroot().find("testsuite")
    if suite is None:
        raise RuntimeError(f"no test suite in {junit}")
    family = {str(p.get("name")).removeprefix("modes.verdict."): str(p.get("value"))
              for p in suite.find("properties") or [] if p.get("name", "").startswith(
                  "modes.verdict.")}
    own = {}
    for case in suite.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "claim" in props:
            own[str(props["claim"])] = str(props["verdict"])
    return family, own


def commit() -> str:
    """The code's git commit (``+`` when the tree has changes), or "unknown" outside a clone."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=CLAIMS_DIR,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=CLAIMS_DIR, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+" if dirty else "")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20, help="seeds F .. F+S-1 per world")
    p.add_argument("--first-seed", type=int, default=0, help="F (to split seeds over processes)")
    p.add_argument("--claims", nargs="+", default=list(CLAIMS), choices=CLAIMS,
                   help="run only these claims' files (Holm's family is then these claims)")
    p.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=WORLDS)
    p.add_argument("--classes", type=int, default=20)
    p.add_argument("--n", type=int, default=100, help="examples per class")
    p.add_argument("--dims", type=int, nargs="+", default=None,
                   help="dims per stage, shallow first (default: the scale's SVD dims, 4 stages)")
    p.add_argument("--planted", choices=sorted(PLANTED), default="blobs")
    p.add_argument("--planted-fraction", type=float, default=0.3)
    p.add_argument("--components", type=int, default=5, help="per planted class")
    p.add_argument("--radius", type=float, default=0.3,
                   help="planted blobs' sd (shells' radius), of the class scale")
    p.add_argument("--scale", default="smoke", help="a scale profile, or 'tiny' (docstring)")
    p.add_argument("--workdir", default=None, help="keep the files, caches and reports here")
    p.add_argument("--cache-dir", default=None,
                   help="the runs' artifact cache (default: WORKDIR/cache); share it between "
                        "processes that split the seeds or worlds")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--records", default="reports/records",
                   help="write each run's record here (the report's planted-world tables)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    profile, overrides = profile_of(a.scale)
    design = WorldDesign(
        classes=a.classes, n=a.n,
        dims=tuple(a.dims) if a.dims else scale_dims(scale.load_profile(profile, overrides)),
        planted=a.planted, planted_fraction=a.planted_fraction, components=a.components,
        radius=a.radius, scale=profile, overrides=overrides,
        claims=tuple(c for c in CLAIMS if c in a.claims))
    code = commit()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(a.workdir or tmp)
        cache = Path(a.cache_dir) if a.cache_dir else root / "cache"
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            for world in a.worlds:
                workdir = root / f"{world}-{seed}"
                workdir.mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                w = write_world_file(workdir / "representations.npz", world, a.classes, a.n,
                                     design.dims, seed, planted_fraction=a.planted_fraction,
                                     components=a.components, radius=a.radius,
                                     kind=a.planted)
                family, own = run_claims(Path(w.file.path), workdir, cache, a.scale, seed,
                                         design.claims)
                run = WorldRun(world=world, seed=seed, sha256=w.file.sha256,
                               family={c: family.get(c, "missing") for c in design.claims},
                               own={c: own.get(c, "missing") for c in design.claims},
                               seconds=time.perf_counter() - started, commit=code)
                path = write_run(a.records, design, run)
                runs.append(run)
                print(f"seed {seed} {world}: " + ", ".join(
                    f"{c} {run.family[c]} (own {run.own[c]})" for c in design.claims)
                    + f"; {run.seconds:.0f} s, sha256 {w.file.sha256[:12]}; {path}", flush=True)
    print(markdown([WorldTable(design, tuple(runs))]))


if __name__ == "__main__":
    main()
