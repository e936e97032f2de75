"""Fixtures shared by the claim modules (options and the scenario come from modes.pytest_plugin)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

from modes.evidence import assert_replicated, inconclusive
from modes.expected import expected_verdict, reason, run_key
from modes.report.records import write_record
from modes.report.specs import FigureSpec
from modes.scenario import MissingComponentError, Scenario
from modes.stats.claim import REPLICATED, ClaimResult, Preregistration, expected_fail

Record = Callable[..., ClaimResult]


# Claims that share expensive artifacts, by module. Under ``-n auto`` each group runs on one
# worker, so workers compute different artifacts in parallel instead of waiting on each other's
# store locks; groups are started in this order (the longest first).
ARTIFACT_GROUPS: dict[str, str] = {
    "test_c05_memorization_jump.py": "memorization",
    "test_c06_fscore_tracks_memorization.py": "memorization",
    "test_c07_robustness_drop.py": "memorization",
    "test_c10_transformers.py": "transformers",
    "test_c01_two_modes_deep.py": "resnet",
    "test_c02_no_modes_shallow.py": "resnet",
    "test_c04_not_compact_but_complex.py": "resnet",
    "test_c03_plain_cnn_uniform.py": "resnet",
    "test_c08_where_classes_fit.py": "resnet",
    "test_c09_generative_classifier.py": "resnet",
    "test_controls.py": "controls",
}
_ORDER = list(ARTIFACT_GROUPS)


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0].rsplit("/", 1)[-1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run claims in the order of :data:`ARTIFACT_GROUPS` (unknown modules last)."""
    items.sort(key=lambda item: _ORDER.index(m) if (m := _module(item.nodeid)) in _ORDER
               else len(_ORDER))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Schedule whole artifact groups (xdist's scope scheduling keyed by our groups)."""
    if config.getvalue("dist") != "load":
        return None  # the user chose a distribution mode explicitly
    from xdist.scheduler import LoadScopeScheduling

    class ArtifactGroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return ARTIFACT_GROUPS.get(_module(nodeid), nodeid)

    return ArtifactGroupScheduling(config, log)


@pytest.fixture
def record_claim(modes_scenario: Scenario, modes_reports_dir: Path,
                 request: pytest.FixtureRequest) -> Record:
    """``record_claim(result, figures=[FigureSpec...])`` stamps the result with scale, components,
    runtime and figure specs (drawn by the report), writes its JSON record and returns it.

    When :mod:`modes.expected` records an expected verdict for this run and claim, the measured
    verdict must equal it: then the test is ``xfail(strict=True)`` with a reason generated from
    the record; a different verdict fails the test.
    """
    started = time.perf_counter()
    cfg = modes_scenario.config
    key = run_key(modes_scenario.scale.name, cfg.dataset, cfg.backbone, cfg.seed)

    def record(result: ClaimResult, figures: tuple[FigureSpec, ...] = ()) -> ClaimResult:
        result = attrs.evolve(
            result, scale=modes_scenario.scale.name, components=cfg.components(),
            runtime_s=time.perf_counter() - started,
            figure_specs=tuple(spec.to_dict() for spec in figures))
        expected = expected_verdict(key, result.claim_id)
        mismatch = expected is not None and result.verdict != expected
        if expected is not None and not mismatch and expected != REPLICATED:
            why = reason(result, expected, key)
            request.applymarker(pytest.mark.xfail(strict=True, reason=why))
            result = expected_fail(result, why)
        write_record(modes_reports_dir, result)
        if mismatch:
            pytest.fail(f"{result.claim_id}: measured '{result.verdict}' but run {key} expects "
                        f"'{expected}' (modes/expected/smoke.json): {result.note}")
        return result

    return record


@pytest.fixture
def requires(record_claim: Record) -> Callable[[Preregistration], AbstractContextManager[None]]:
    """``with requires(PREREG): ...`` turns a component the scenario lacks into an inconclusive
    record that says which component is missing (and a failed test)."""

    @contextmanager
    def guard(prereg: Preregistration) -> Iterator[None]:
        try:
            yield
        except MissingComponentError as err:
            assert_replicated(record_claim(inconclusive(
                prereg, 0, f"needs a component this scenario lacks: {err}")))

    return guard
