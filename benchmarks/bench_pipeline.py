"""Time the smoke representation pipeline: data -> train -> tap -> reduce, cold and cached.

    python benchmarks/bench_pipeline.py [--threads 1] [--cache-dir DIR] [--backbone resnet18]

The cold run trains into a fresh store (a temporary directory unless ``--cache-dir`` is given);
the cached run repeats the whole pipeline in a new process against the same store, so its time
includes Python and torch start-up. ``--threads`` caps torch, OpenMP and BLAS threads. Prints
one JSON line per run with per-step seconds (``pipeline`` = data + train + tap + reduce,
in-process) and ``process_wall`` (the whole child process: interpreter, imports, pipeline).
Targets (issue 2): cold <= 180 s on a 2-core CPU, cached <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def pipeline(cache_dir: Path, backbone_name: str, threads: int) -> dict[str, float]:
    import torch

    torch.set_num_threads(threads)
    from modes import registry
    from modes.components.reducer import SVDReducer
    from modes.components.taps import extract_representations
    from modes.data import load_dataset
    from modes.scale import SMOKE
    from modes.store import ArtifactStore
    from modes.training import accuracy, train_classifier, train_key

    times: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[name] = round(now - clock, 3)
        clock = now

    store = ArtifactStore(cache_dir)
    data = load_dataset("synthetic", SMOKE.data)
    lap("data")
    bb = registry.create("backbone", backbone_name, num_classes=data.num_classes,
                         width=SMOKE.train.width)
    model = train_classifier(bb, data, SMOKE.train, seed=0, store=store, progress=False)
    lap("train")
    key = train_key(bb, data, SMOKE.train, seed=0)
    reps = extract_representations(bb, data.train_images, model=model, store=store,
                                   model_key=key)
    lap("tap")
    dims = [SMOKE.density.dims_shallow] * 2 + [SMOKE.density.dims_deep] * (len(reps) - 2)
    for rep, k in zip(reps.values(), dims, strict=True):
        SVDReducer(dims=k).fit(rep).transform(rep)
    lap("reduce")
    times["pipeline"] = round(sum(times.values()), 3)
    times["test_accuracy"] = round(accuracy(model, data.test_images, data.test_labels), 4)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(pipeline(args.cache_dir, args.backbone, args.threads)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        for run in ("cold", "cached"):
            start = time.perf_counter()
            threads = str(args.threads)
            env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
                   "MKL_NUM_THREADS": threads}
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--cache-dir", str(cache),
                 "--threads", str(args.threads), "--backbone", args.backbone],
                check=True, capture_output=True, text=True, env=env,
            ).stdout.strip().splitlines()[-1]
            result = {"run": run, **json.loads(out),
                      "process_wall": round(time.perf_counter() - start, 3)}
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
