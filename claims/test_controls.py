"""Controls: every claim's statistical procedure on planted fixtures with known answers.

False-positive rates on nulls must stay within alpha plus Monte Carlo error and power on planted
effects must reach 0.9; the results are summarized in the report next to the claims they back.
"""

from __future__ import annotations

from pathlib import Path

from modes.report.records import records_dir, write_controls
from modes.stats.controls import run_controls


def test_controls_pass(modes_reports_dir: Path) -> None:
    results = run_controls(reps=300, seed=0)
    write_controls(records_dir(modes_reports_dir), results)
    failed = [r.message() for r in results if r.passed is False]
    assert not failed, "controls failed:\n" + "\n".join(failed)
