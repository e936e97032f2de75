"""Fixtures shared by the claim modules (options and the scenario come from modes.pytest_plugin)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import attrs
import pytest

from modes.evidence import assert_replicated, inconclusive
from modes.report.records import write_record
from modes.report.specs import FigureSpec
from modes.scenario import MissingComponentError, Scenario
from modes.stats.claim import REPLICATED, ClaimResult, Preregistration, expected_fail

Record = Callable[..., ClaimResult]


def pytest_configure(config: pytest.Config) -> None:
    """Under ``-n auto`` schedule by ``xdist_group``: claims that share expensive artifacts (the
    trained ResNet's densities; memorization trials and density-bin models; the transformers) run
    on one worker each, so workers compute in parallel instead of waiting on each other's locks."""
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"


@pytest.fixture
def record_claim(modes_scenario: Scenario, modes_reports_dir: Path,
                 request: pytest.FixtureRequest) -> Iterator[Record]:
    """``record_claim(result, figures=[FigureSpec...], smoke_xfail=reason)`` stamps the result with
    scale, components, runtime and figure specs (drawn by the report), writes its JSON record
    and returns it.

    ``smoke_xfail`` (a measured reason) marks a claim not expected to hold on the embedded data at
    smoke scale: the record says so and the test becomes ``xfail(strict=True)``, so an unexpected
    pass is reported as a failure rather than hidden.
    """
    started = time.perf_counter()

    def record(result: ClaimResult, figures: tuple[FigureSpec, ...] = (),
               smoke_xfail: str | None = None) -> ClaimResult:
        result = attrs.evolve(
            result, scale=modes_scenario.scale.name,
            components=modes_scenario.config.components(),
            runtime_s=time.perf_counter() - started,
            figure_specs=tuple(spec.to_dict() for spec in figures))
        if smoke_xfail and modes_scenario.scale.name == "smoke":
            request.applymarker(pytest.mark.xfail(strict=True, reason=smoke_xfail))
            if result.verdict != REPLICATED:
                result = expected_fail(result, smoke_xfail)
        write_record(modes_reports_dir, result)
        return result

    yield record



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
