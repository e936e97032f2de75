"""Which records form a run: the claims of one pytest session, apart from stale records.

``records/`` keeps one file per claim, so a claim that did not run in this session still has the
record an earlier session left (another scale, backbone or dataset). Every record carries the
``run_id`` of the session that wrote it; the report and the family-wise correction use only the
records of one run, and list the others as stale with the verdict they recorded. Records written
before records carried a run id are always stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from modes.report.records import natural_key, read_record, resolve, result_from_dict
from modes.stats.claim import ClaimResult


@attrs.frozen
class StaleRecord:
    """A record of another run, as it was recorded; never part of this run's family."""

    claim_id: str
    verdict: str
    run_id: str
    scale: str
    components: dict[str, str]
    overrides: tuple[str, ...] = ()


@attrs.frozen(eq=False)
class RunRecords:
    """The claims of run ``run_id`` and the stale records beside them, each in claim order."""

    run_id: str
    results: tuple[ClaimResult, ...]
    stale: tuple[StaleRecord, ...] = ()


def _stale(data: dict[str, Any]) -> StaleRecord:
    return StaleRecord(claim_id=data["prereg"]["claim_id"], verdict=str(data.get("verdict")),
                       run_id=str(data.get("run_id") or ""), scale=str(data.get("scale", "")),
                       components=dict(data.get("components") or {}),
                       overrides=tuple(data.get("overrides") or ()))


def latest_run(files: list[tuple[Path, dict[str, Any]]]) -> str:
    """The run id of the most recently written record that has one ("" when none has)."""
    stamped = [(f.stat().st_mtime, d["run_id"]) for f, d in files if d.get("run_id")]
    return max(stamped)[1] if stamped else ""


def load_run(path: Path | str, run_id: str | None = None) -> RunRecords:
    """The records of run ``run_id`` (default: :func:`latest_run`) under ``path`` (a records or a
    reports directory), and the others as stale. A record that cannot be read is an error naming
    the file."""
    folder = resolve(path)
    if not folder.is_dir():
        raise ValueError(f"records directory {folder} does not exist")
    files = [(f, read_record(f)) for f in sorted(folder.glob("*.json"))]
    run = latest_run(files) if run_id is None else run_id
    results, stale = [], []
    for file, data in files:
        if not run or data.get("run_id") != run:
            stale.append(_stale(data))
            continue
        try:
            results.append(result_from_dict(data))
        except (ValueError, TypeError) as err:
            raise ValueError(f"cannot read claim record {file}: {err}") from None
    return RunRecords(run_id=run,
                      results=tuple(sorted(results, key=lambda r: natural_key(r.claim_id))),
                      stale=tuple(sorted(stale, key=lambda s: natural_key(s.claim_id))))
