"""pytest plugin: claim records, and pytest's outcome read from the claims' verdicts.

* ``record_claim`` stamps a claim's result with the run (id, scale and its overrides, components,
  the verdict the run expects, :mod:`modes.expected`), writes its JSON record and puts the
  verdict in the test's ``user_properties`` (hence JUnit XML ``<property>`` elements). A claim
  whose verdict is the expected non-replicated one is ``xfail(strict=True)``; a claim that
  replicates on its own but is expected not to may still lose its replication to Holm's
  correction, so its test passes and the session's end decides (below); any other verdict than
  the expected one fails.
* ``pytest_report_teststatus``: a claim test that failed with an ``inconclusive`` verdict is
  counted and shown as INCONCLUSIVE (``I``) instead of FAILED; it still fails the session.
* At the end of the session the controller places this run's claims in their family (Holm,
  :func:`modes.stats.multiple.family_wise`), rewrites their records with the family-wise verdict,
  adds those verdicts to the JUnit XML test-suite properties, renders the report and, when a
  family-wise verdict is not the expected one (a claim that passed its own test but not Holm's
  correction), sets the exit status to "tests failed". ``pytest_terminal_summary`` prints the
  verdict table. Records of other runs are stale: listed in the report, never in the family.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from modes.pytest_plugin import family_alpha_of, reports_dir, run_id_of

if TYPE_CHECKING:
    from modes.report.runs import RunRecords
    from modes.report.specs import FigureSpec
    from modes.scenario import Scenario
    from modes.stats.claim import ClaimResult

Record = Callable[..., "ClaimResult"]
SESSION = pytest.StashKey["RunRecords"]()  # this run's claims, placed in their family
REPORT_FILES = pytest.StashKey[int]()
CLAIM, VERDICT = "claim", "verdict"  # the user properties naming a claim test's claim and verdict


class ReportedClaims:
    """On the controller: the claims whose tests reported in this session (from any worker)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        claim = dict(report.user_properties).get(CLAIM)
        if claim is not None:
            self.ids.add(str(claim))


REPORTED = pytest.StashKey[ReportedClaims]()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.stash[REPORTED] = ReportedClaims()
        config.pluginmanager.register(config.stash[REPORTED], "modes-reported-claims")


def claim_properties(result: ClaimResult) -> list[tuple[str, str]]:
    """What a claim test adds to its ``user_properties`` (and so to JUnit XML): the claim's own
    verdict; the family-wise ones are test-suite properties (:func:`pytest_sessionfinish`)."""
    return [(CLAIM, result.claim_id), (VERDICT, result.verdict.value),
            ("expected", result.expected.value), ("p_value", f"{result.p_value:.6g}"),
            ("effect_size", f"{result.effect_size:.6g}"), ("run_id", result.run_id),
            ("note", result.explanation)]


@pytest.fixture
def record_claim(modes_scenario: Scenario, modes_reports_dir: Path, modes_run_id: str,
                 request: pytest.FixtureRequest) -> Record:
    """``record_claim(result, figures=[FigureSpec...])`` stamps the result with the run id, scale,
    components (a representations file by path and sha256), runtime, expected verdict and figure
    specs (drawn by the report), writes its JSON record, records its verdict as user properties
    and returns it (module docstring)."""
    from modes.expected import expected_verdict, reason
    from modes.report.records import write_record
    from modes.stats.verdict import Verdict

    started = time.perf_counter()
    cfg = modes_scenario.config
    key = modes_scenario.run_key()

    def record(result: ClaimResult, figures: tuple[FigureSpec, ...] = ()) -> ClaimResult:
        result = attrs.evolve(
            result, run_id=modes_run_id, scale=cfg.scale, overrides=cfg.overrides,
            components=modes_scenario.components(),
            expected=expected_verdict(key, result.claim_id),
            runtime_s=time.perf_counter() - started,
            figure_specs=tuple(spec.to_dict() for spec in figures))
        write_record(modes_reports_dir, result)
        request.node.user_properties.extend(claim_properties(result))
        if result.expected is not Verdict.REPLICATED and not result.as_expected:
            if result.expected in result.family_verdicts:
                return result  # the family-wise verdict, at the session's end, decides
            why = f": {result.explanation}" if result.explanation else ""
            pytest.fail(f"{result.claim_id}: measured '{result.verdict}' but run {key} "
                        f"expects '{result.expected}' (modes/expected){why}")
        if result.expected is not Verdict.REPLICATED:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason(result, key)))
        return result

    return record


def pytest_report_teststatus(report: pytest.TestReport | pytest.CollectReport,
                             config: pytest.Config) -> tuple[str, str, Any] | None:
    """INCONCLUSIVE (``I``) for a claim test that failed on an inconclusive verdict."""
    properties = dict(getattr(report, "user_properties", ()))
    if report.when == "call" and report.failed and properties.get(VERDICT) == "inconclusive":
        return "inconclusive", "I", ("INCONCLUSIVE", {"yellow": True})
    return None


def _junit_properties(config: pytest.Config, run: RunRecords) -> None:
    """The run id and family-wise verdicts as JUnit XML test-suite properties (controller)."""
    from _pytest.junitxml import xml_key  # LogXML: record_testsuite_property is xdist-blind

    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    xml.add_global_property("modes.run_id", run.run_id)
    for r in run.results:
        xml.add_global_property(f"modes.verdict.{r.claim_id}", r.verdict.value)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On the controller, when claims reported: family-wise verdicts of this run, records, report,
    exit status."""
    config = session.config
    records = reports_dir(config) / "records"
    reported = config.stash.get(REPORTED, None)
    if reported is None or not reported.ids or not records.is_dir():
        return
    from modes.report.records import load_controls, write_record
    from modes.report.render import write_report
    from modes.report.runs import load_run
    from modes.report.sensitivity import load_table
    from modes.report.worlds import load_tables
    from modes.stats.multiple import family_wise

    run = load_run(records, run_id_of(config))
    if not run.results:
        return
    alpha = family_alpha_of(config)
    run = attrs.evolve(run, results=tuple(family_wise(run.results, alpha)))
    config.stash[SESSION] = run
    for result in run.results:
        write_record(reports_dir(config), result)
    _junit_properties(config, run)
    if session.exitstatus == pytest.ExitCode.OK and not all(r.as_expected for r in run.results):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    written = write_report(run, reports_dir(config), load_controls(records, run.run_id), alpha,
                           load_table(records, run.run_id), load_tables(records))
    config.stash[REPORT_FILES] = len(written)


def _crash(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return str(getattr(crash, "message", "")).splitlines()[0] if crash is not None else ""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    """The verdict table of this run's claims (family-wise), then what set the exit status."""
    run = config.stash.get(SESSION, None)
    if run is None:
        return
    from modes.report.terminal import verdict_table

    tr = terminalreporter
    tr.write_sep("=", f"modes verdicts, run {run.run_id} (Holm over this run's claims)")
    for line in verdict_table(run.results, shutil.get_terminal_size((100, 24)).columns):
        tr.write_line(line)
    for report in tr.stats.get("inconclusive", []):
        tr.write_line(f"INCONCLUSIVE {report.nodeid} - {_crash(report)}")
    if run.stale:
        tr.write_line(f"{len(run.stale)} stale record(s) of other runs left out: "
                      + ", ".join(s.claim_id for s in run.stale))
    off = [r for r in run.results if not r.as_expected]
    if off:
        tr.write_line("not as expected (exit status 1): " + ", ".join(
            f"{r.claim_id} {r.verdict.value}" for r in off), red=True)
    tr.write_line(f"modes: report written to {reports_dir(config)} "
                  f"({config.stash.get(REPORT_FILES, 0)} files)")
