"""The claims' artifact groups reach xdist: ``pytest claims/ -n 2`` runs each group on one worker.

Two things broke this silently before: an xdist worker parses the command line itself, so with
``-n`` alone it did not know the controller schedules by group; and pytest 9.2 ignores the node id
suffix xdist 3.8 writes (pytest-dev/pytest-xdist#1386, hence the pin in pyproject).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_claim_group_runs_on_one_worker_under_plain_dash_n(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "claims/test_controls.py", "-n", "2", "-v",
         "-k", "C6", "-p", "no:cacheprovider", "--modes-reports-dir", str(tmp_path / "reports")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MODES_CACHE": str(tmp_path / "cache")},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    passed = re.findall(r"^\[(gw\d+)\] \[\s*\d+%\] PASSED (.*?\])(@[\w-]+)?\s*$", run.stdout,
                        flags=re.MULTILINE)
    assert len(passed) >= 2, run.stdout[-3000:]
    assert {group for _, _, group in passed} == {"@controls-C6"}, passed
    assert len({worker for worker, _, _ in passed}) == 1, passed


def test_groups_are_handed_out_in_the_measured_order(tmp_path: Path) -> None:
    """Collected claims come in ``GROUP_ORDER`` (claims/conftest.py): xdist's loadgroup hands
    groups out in collection order, and the order decides which worker runs what."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "claims/", "--collect-only", "-q", "-p",
         "no:cacheprovider", "--modes-reports-dir", str(tmp_path / "reports")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MODES_CACHE": str(tmp_path / "cache")},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ids = [line for line in run.stdout.splitlines() if line.startswith("claims/")]

    def group(nodeid: str) -> str:
        module = nodeid.split("::")[0].rsplit("/", 1)[-1]
        if module == "test_controls.py":
            return "controls-" + nodeid.split("[", 1)[1].split("-", 1)[0]
        return {"test_c10_transformers.py": "transformers",
                "test_c03_plain_cnn_uniform.py": "plain-cnn"}.get(
            module, "resnet" if module[6:8] in ("01", "02", "04") else "memorization")

    order = list(dict.fromkeys(group(i) for i in ids))  # first appearance of each group
    assert order[:5] == ["memorization", "resnet", "transformers", "controls-C10", "plain-cnn"]
    assert all(g.startswith("controls-") for g in order[5:]) and len(order) == 14, order
