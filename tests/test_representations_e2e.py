"""``pytest claims/ --modes-representations FILE`` end to end at a tiny scale: C1 and C1s decided on
the file through the real reducer, sampler and decisions, recorded with the file's path and sha256;
C3, which needs a second network, inconclusive with a note naming it; the sensitivity table in the
report, its refitting columns with ``--modes-sensitivity``."""

from __future__ import annotations

import hashlib
import importlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from modes.sensitivity import NEEDS_REFIT, NOT_APPLICABLE
from scenario_tiny import TINY_OVERRIDES

pytest_plugins = ("pytester",)

# pytester's in-process sessions drop the modules first imported inside them, and numpy and torch
# cannot be imported twice in one process: import here what the inner session imports.
for _name in ("modes.decisions.checks", "modes.decisions.no_modes", "modes.decisions.two_modes",
              "modes.evidence", "modes.expected", "modes.measures", "modes.report.render",
              "modes.report.runs", "modes.report.specs", "modes.report.terminal",
              "modes.scenario", "modes.stats.multiple", "modes.data.representations_file",
              "modes.decisions.on_scenario", "modes.sensitivity", "modes.report.sensitivity"):
    importlib.import_module(_name)

CLAIMS = Path(__file__).resolve().parents[1] / "claims"
# fewer chains, folds and matched nulls than TINY: the run only has to go through every step
SIZES = (*TINY_OVERRIDES, "density.chains=2", "density.folds=2", "density.null_replicates=1",
         "density.sweeps=6", "density.burn_in=3")


@pytest.mark.slow
def test_claims_run_on_a_representations_file(pytester: pytest.Pytester,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 10)
    stages = {f"stage_{i}": rng.normal(size=(40, d)) for i, d in enumerate((3, 3, 4, 4), 1)}
    path = pytester.path / "reps.npz"
    np.savez(path, labels=labels, **stages)  # type: ignore[arg-type]
    result = pytester.runpytest(
        str(CLAIMS / "test_c01_two_modes_deep.py"), str(CLAIMS / "test_c03_plain_cnn_uniform.py"),
        "-p", "no:xdist", "-p", "no:cacheprovider", "--modes-representations", str(path),
        "--modes-scale", "smoke", *(f"--modes-set={o}" for o in SIZES),
        "--modes-reports-dir", str(pytester.path / "reports"),
        "--modes-cache-dir", str(pytester.path / "cache"), "--junitxml", "junit.xml",
        "--modes-run-id", "reps")
    suite = ET.parse(pytester.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "pytest", "junit.xml has no pytest suite"
    verdicts = {p.get("name"): p.get("value") for p in suite.find("properties") or []}
    assert set(verdicts) == {"modes.run_id", "modes.verdict.C1", "modes.verdict.C1s",
                             "modes.verdict.C3"}, result.stdout.str()
    assert verdicts["modes.verdict.C3"] == "inconclusive"
    records = {c: json.loads((pytester.path / "reports" / "records" / f"{c}.json").read_text())
               for c in ("C1", "C1s", "C3")}
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    for record in records.values():
        assert record["components"]["representations"] == str(path.resolve())
        assert record["components"]["representations_sha256"] == sha
        assert record["expected"] == "replicated"  # a file is its own run, with no expectations
    assert records["C1"]["n"] == 4  # the file's classes
    assert "plain_cnn's representations" in records["C3"]["note"]
    result.stdout.fnmatch_lines(["*INCONCLUSIVE*test_c03*needs a component this scenario "
                                 "lacks: plain_cnn's representations*"])
    # the sensitivity table: every choice a column, the cheap ones run by default and the
    # refitting ones saying they need the option; a row per claim that ran (C3 stopped before
    # asking for its row)
    summary = (pytester.path / "reports" / "summary.md").read_text()
    table = summary[summary.index("## Sensitivity to the analytic choices"):]
    assert "| claim | default | predictive=paper | predictive=occupied | predictive=authors | " \
           "averaging=log | block_update=independent | svd_centre=True | noise_space=pixel | " \
           "robust |" in table
    rows = [line for line in table.splitlines() if line.startswith("| C")]
    assert [r.split(" | ")[0] for r in rows] == ["| C1", "| C1s"]
    assert rows[0].count("(p ") == 5 and rows[0].count(NEEDS_REFIT) == 2, rows[0]
    assert f"| {NOT_APPLICABLE} |" in rows[0]
    assert "id='sensitivity'" in (pytester.path / "reports" / "index.html").read_text()
    full = pytester.runpytest_subprocess(  # a second session: in-process, modules would clash
        str(CLAIMS / "test_c01_two_modes_deep.py"), "-k", "test_two_modes_in_deep_stages",
        "-p", "no:xdist", "-p", "no:cacheprovider", "--modes-representations", str(path),
        "--modes-scale", "smoke", *(f"--modes-set={o}" for o in SIZES), "--modes-sensitivity",
        "--modes-reports-dir", str(pytester.path / "reports"),
        "--modes-cache-dir", str(pytester.path / "cache"), "--modes-run-id", "reps-full")
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert "block_update=independent | svd_centre=True | noise_space=pixel" in summary, \
        full.stdout.str()
    table = summary[summary.index("## Sensitivity to the analytic choices"):]
    row = next(line for line in table.splitlines() if line.startswith("| C1 |"))
    # default, four cheap and two refitting choices; noise space touches no density input
    assert row.count("(p ") == 7 and row.endswith((f" {NOT_APPLICABLE} | yes |",
                                                   f" {NOT_APPLICABLE} | no |")), row
