"""Every claim control (:mod:`modes.decisions.controls`), the heavy ones included, with a larger
cap than the smoke run's sequential rule.

    python benchmarks/run_controls.py --max-reps 4000
    python benchmarks/run_controls.py --only C2 C10 --max-reps 4000 --records reports/records

One line per control: claim, kind, planted input, rate with exact 95% CI and Monte Carlo SE,
repetitions and why they stopped, the criterion and whether it passed. ``--records`` also writes
them (with ``--run-id``) where the report reads them.
"""

from __future__ import annotations

import argparse

from modes.decisions.controls import CONTROLS, run_control
from modes.report.records import write_control


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-reps", type=int, default=4000, help="cap per control (nulls, planted)")
    p.add_argument("--only", nargs="*", default=None, help="claims to run (C1 ... C10)")
    p.add_argument("--smoke-only", action="store_true", help="only the smoke run's controls")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--records", default=None, help="records dir to write the results to")
    p.add_argument("--run-id", default="controls-benchmark")
    a = p.parse_args()
    for control in CONTROLS:
        if (a.only and control.claim not in a.only) or (a.smoke_only and not control.smoke):
            continue
        cap = None if control.kind == "power" else a.max_reps
        result = run_control(control, a.seed, a.run_id, cap)
        print(result.message() + f" -> {'' if result.passed is None else result.passed}",
              flush=True)
        if a.records:
            write_control(a.records, result)


if __name__ == "__main__":
    main()
