"""The pytest plugin end to end on tiny claim modules: statuses, the verdict table, JUnit
properties, the exit status read from the family-wise verdicts, expectations and stale records
(the run id's travel to xdist workers: tests/test_run_id.py)."""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from modes.stats.verdict import Verdict

pytest_plugins = ("pytester",)

# pytester's in-process sessions drop the modules first imported inside them, and numpy and torch
# cannot be imported twice in one process: import here what the inner sessions import.
for _name in ("modes.evidence", "modes.expected", "modes.report.render", "modes.report.runs",
              "modes.report.terminal", "modes.scenario", "modes.stats.multiple"):
    importlib.import_module(_name)

CLAIMS = '''
from modes.evidence import assert_replicated
from modes.stats.claim import Preregistration, evaluate


def claim(record_claim, claim_id, p):
    prereg = Preregistration(claim_id=claim_id, hypothesis="h", paper_ref="r", test="t",
                             effect_name="e", effect_threshold=1.0, effect_direction="greater")
    result = record_claim(evaluate(prereg, statistic=1.0, p_value=p, effect_size=2.0,
                                   ci=(1.5, 2.5), n=10))
    assert_replicated(result)
'''


@pytest.fixture(autouse=True)
def _no_outer_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner sessions must not read the outer session's options from the environment."""
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


def _module(**claims: float) -> str:
    """A claim module with one test per ``claim id = p-value`` (NaN: inconclusive)."""
    tests = [f"\n\ndef test_{cid.lower()}(record_claim):\n    claim(record_claim, {cid!r}, "
             f"float({str(p)!r}))\n" for cid, p in claims.items()]
    return CLAIMS + "".join(tests)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "--modes-seed", "7",
                              f"--modes-reports-dir={pytester.path / 'reports'}", *args)


def _record(pytester: pytest.Pytester, claim_id: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (pytester.path / "reports" / "records" / f"{claim_id}.json").read_text())
    return data


def test_inconclusive_has_its_own_status_and_junit_gets_the_verdicts(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_claims=_module(T1=1e-6, T2=float("nan")))
    result = _run(pytester, "--modes-run-id", "run-1", "--junitxml=junit.xml", "-v")
    assert result.ret == 1
    assert result.parseoutcomes() == {"passed": 1, "inconclusive": 1}
    result.stdout.fnmatch_lines(["*test_t2 INCONCLUSIVE*",
                                 "*= modes verdicts, run run-1 (Holm over this run's claims) =*",
                                 "claim*verdict*Holm p*effect*note",
                                 "T1*replicated*1.00e-06*2*",
                                 "T2*inconclusive*",
                                 "INCONCLUSIVE *test_t2 - AssertionError: T2 inconclusive*"])
    assert "FAILURES" not in result.stdout.str()
    suite = ET.parse(pytester.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "pytest", "junit.xml has no pytest suite"
    cases = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")}
             for c in suite.iter("testcase")}
    assert cases["test_t1"]["verdict"] == "replicated" and cases["test_t1"]["claim"] == "T1"
    assert cases["test_t2"]["verdict"] == "inconclusive" and cases["test_t2"]["run_id"] == "run-1"
    suite_props = {p.get("name"): p.get("value") for p in suite.find("properties") or []}
    assert suite_props == {"modes.run_id": "run-1", "modes.verdict.T1": "replicated",
                           "modes.verdict.T2": "inconclusive"}
    assert _record(pytester, "T1")["run_id"] == "run-1"


def test_the_exit_status_is_the_family_wise_verdict(pytester: pytest.Pytester) -> None:
    # T2 and T3 replicate at their own alpha 0.01, but Holm takes 0.006 to 2 * 0.006 = 0.012
    # and T3 up with it (step-down: the running maximum)
    pytester.makepyfile(test_claims=_module(T1=1e-6, T2=0.006, T3=0.008))
    result = _run(pytester, "--modes-run-id", "run-2")
    assert result.parseoutcomes() == {"passed": 3}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["T1*replicated*3.00e-06*",
                                 "T2*not replicated*0.012*replicated at its own alpha*",
                                 "T3*not replicated*0.012*",
                                 "not as expected (exit status 1): T2 not replicated, "
                                 "T3 not replicated"])
    record = _record(pytester, "T2")
    assert record["verdict"] == "not replicated"
    assert record["family"] == {"adjusted_p": pytest.approx(0.012), "alpha": 0.01, "size": 3}
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert "Run run-2" in summary and "## T2: not replicated" in summary
    relaxed = _run(pytester, "--modes-run-id", "run-3", "--modes-family-alpha", "0.05")
    assert relaxed.ret == pytest.ExitCode.OK


def test_records_of_earlier_runs_never_join_the_family(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=_module(T3=1e-9, T4=1e-9))
    assert _run(pytester, "--modes-run-id", "old").ret == pytest.ExitCode.OK
    pytester.path.joinpath("test_a.py").unlink()
    # with the old T3 and T4 in the family, Holm would multiply 0.004 by 3, not by 1
    pytester.makepyfile(test_b=_module(T1=0.004))
    result = _run(pytester, "--modes-run-id", "new")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["T1*replicated*0.004*",
                                 "2 stale record(s) of other runs left out: T3, T4"])
    assert _record(pytester, "T1")["family"] == {"adjusted_p": 0.004, "alpha": 0.01, "size": 1}
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert "## Stale records" in summary and "| T3 | replicated | old |" in summary


def test_expected_verdicts_xfail_strictly_and_mismatches_fail(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"smoke/synthetic/resnet18/7": {"T1": Verdict.NOT_REPLICATED,
                                           "T2": Verdict.INCONCLUSIVE}}
    monkeypatch.setattr("modes.expected.load", lambda path=None: table)
    pytester.makepyfile(test_claims=_module(T1=0.5, T2=1e-6, T3=1e-6))
    result = _run(pytester, "--modes-run-id", "run-x", "-rxf")
    assert result.parseoutcomes() == {"xfailed": 1, "failed": 1, "passed": 1}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "T1*not replicated (expected)*",
        "T2*replicated (expected inconclusive)*",
        "XFAIL *test_t1 - expected 'not replicated' in run smoke/synthetic/resnet18/7*p 0.5*",
        "FAILED *test_t2 - Failed: T2: measured 'replicated' but*"])
    assert ("T2: measured 'replicated' but run smoke/synthetic/resnet18/7 expects "
            "'inconclusive'" in result.stdout.str())
    assert _record(pytester, "T1")["expected"] == "not replicated"
    assert _record(pytester, "T3")["expected"] == "replicated"


def test_a_run_of_only_expected_failures_exits_zero(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"smoke/synthetic/resnet18/7": {"T1": Verdict.NOT_REPLICATED}}
    monkeypatch.setattr("modes.expected.load", lambda path=None: table)
    pytester.makepyfile(test_claims=_module(T1=0.5, T2=1e-6))
    result = _run(pytester, "--modes-run-id", "run-y")
    assert result.parseoutcomes() == {"xfailed": 1, "passed": 1}
    assert result.ret == pytest.ExitCode.OK


def test_an_expected_failure_holm_can_still_make_waits_for_the_family(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # T2 replicates at its own alpha but is expected not to: only the family can tell
    table = {"smoke/synthetic/resnet18/7": {"T2": Verdict.NOT_REPLICATED}}
    monkeypatch.setattr("modes.expected.load", lambda path=None: table)
    pytester.makepyfile(test_claims=_module(T1=0.006, T2=0.008))
    downgraded = _run(pytester, "--modes-run-id", "run-h")  # Holm: 0.012 for both
    assert downgraded.parseoutcomes() == {"passed": 2}
    downgraded.stdout.fnmatch_lines(["T2*not replicated (expected)*0.012*",
                                     "not as expected (exit status 1): T1 not replicated"])
    assert downgraded.ret == pytest.ExitCode.TESTS_FAILED  # T1 expected to replicate
    kept = _run(pytester, "--modes-run-id", "run-k", "--modes-family-alpha", "0.05")
    kept.stdout.fnmatch_lines(["T2*replicated (expected not replicated)*",
                               "not as expected (exit status 1): T2 replicated"])
    assert kept.ret == pytest.ExitCode.TESTS_FAILED
    table["smoke/synthetic/resnet18/7"]["T1"] = Verdict.NOT_REPLICATED
    both = _run(pytester, "--modes-run-id", "run-b")
    assert both.parseoutcomes() == {"passed": 2} and both.ret == pytest.ExitCode.OK


def test_a_session_without_claims_reports_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.OK and "modes verdicts" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_a_missing_component_is_an_inconclusive_claim(pytester: pytest.Pytester) -> None:
    """claims/conftest.py's ``requires`` guard, on the plugin's ``record_claim``."""
    pytester.makeconftest((Path(__file__).parents[1] / "claims" / "conftest.py").read_text())
    pytester.makepyfile(test_c01_missing='''
from modes.scenario import MissingComponentError
from modes.stats.claim import Preregistration

PREREG = Preregistration(claim_id="T9", hypothesis="h", paper_ref="r", test="t",
                         effect_name="e", effect_threshold=1.0, effect_direction="greater")


def test_needs_memorization(requires):
    with requires(PREREG):
        raise MissingComponentError("no memorization scores for this dataset")
''')
    result = _run(pytester, "--modes-run-id", "run-m")
    assert result.parseoutcomes() == {"inconclusive": 1} and result.ret == 1
    # the status line carries the whole note (the verdict table shortens it to the terminal)
    result.stdout.fnmatch_lines(["T9*inconclusive*needs a component*",
                                 "INCONCLUSIVE*needs a component this scenario lacks: no "
                                 "memorization*"])
    assert _record(pytester, "T9")["verdict"] == "inconclusive"
