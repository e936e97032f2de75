"""pytest plugin: each claim's row of the sensitivity table (:mod:`modes.sensitivity`).

A claim test asks for its row with ``record_sensitivity(claim_id)``; once the test is over
(whatever its outcome: an unexpected or inconclusive verdict is exactly what the table is for),
the fixture decides the claim (:data:`modes.decisions.on_scenario.DECIDERS`) on the session's
scenario and on each choice's variant, and writes the row, stamped with the run id, where the
report reads it (:mod:`modes.report.sensitivity`). The predictive and averaging choices always
run (they re-read the default run's chains) except for claims that retrain models on the
densities (C6, C7); the refitting ones only with ``--modes-sensitivity``; a cell not run says
why. The row is computed after the test body, so the claim's recorded
runtime does not include it; each cell records its own seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from modes.pytest_plugin import option

if TYPE_CHECKING:
    from modes.scenario import Scenario


@pytest.fixture
def record_sensitivity(modes_scenario: Scenario, modes_reports_dir: Path, modes_run_id: str,
                       pytestconfig: pytest.Config) -> Iterator[Callable[[str], None]]:
    """``record_sensitivity("C1")``: after the test, compute and write claim C1's row of the
    sensitivity table (module docstring). An unknown claim id is an error naming the known
    ones."""
    from modes.decisions.on_scenario import DECIDERS
    from modes.report.records import records_dir
    from modes.report.sensitivity import write_row
    from modes.sensitivity import sensitivity_table

    asked: list[str] = []

    def ask(claim_id: str) -> None:
        if claim_id not in DECIDERS:
            raise ValueError(f"no scenario decision for claim {claim_id!r} in the sensitivity "
                             f"table; known: {sorted(DECIDERS)}")
        asked.append(claim_id)

    yield ask
    refit = bool(option(pytestconfig, "sensitivity"))
    for claim_id in asked:
        table = sensitivity_table(modes_scenario, {claim_id: DECIDERS[claim_id]}, refit)
        write_row(records_dir(modes_reports_dir), modes_run_id, table)
