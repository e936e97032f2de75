"""One JSON record per claim, written atomically so that pytest-xdist workers never collide.

Each claim test writes ``<reports_dir>/records/<claim_id>.json`` from its
:class:`~modes.stats.claim.ClaimResult`, stamped with its run's id; which records form the run the
report shows is :mod:`modes.report.runs`' business. The verdict is written for readers of the JSON
and checked when the record is read: it must be the one the record's numbers decide. Non-finite
numbers are written as ``null`` (strict JSON) and read back as NaN. Control results
(:mod:`modes.decisions.controls`) live one per file in ``<records_dir>/controls/``, stamped with
the run id of the session that ran them like the claims; a report reads only its run's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from modes.decisions.controls import ControlResult
from modes.stats.claim import ClaimResult, Preregistration
from modes.stats.verdict import Condition, FamilyWise
from modes.store import save_json

RECORDS_SUBDIR = "records"
CONTROLS_SUBDIR = "controls"
_CLAIM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FLOAT_FIELDS = ("statistic", "p_value", "effect_size", "ci_low", "ci_high", "power",
                 "runtime_s")


def _finite_or_none(obj: Any) -> Any:
    """Replace non-finite floats by None, recursively (JSON has no NaN or infinity)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    if attrs.has(type(obj)):
        return _finite_or_none(attrs.asdict(obj))
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return _finite_or_none(obj.item())  # numpy scalars
    if hasattr(obj, "tolist") and callable(obj.tolist):
        return _finite_or_none(obj.tolist())  # numpy arrays
    return obj


def records_dir(reports_dir: Path | str) -> Path:
    return Path(reports_dir) / RECORDS_SUBDIR


def result_to_dict(result: ClaimResult) -> dict[str, Any]:
    """A JSON-able dict of ``result`` (nested pre-registration included, verdict added)."""
    out: dict[str, Any] = _finite_or_none(attrs.asdict(result, recurse=True))
    out["verdict"] = result.verdict.value
    return out


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def result_from_dict(data: dict[str, Any]) -> ClaimResult:
    """Inverse of :func:`result_to_dict`; a recorded verdict other than the one the record's
    numbers decide is an error."""
    fields = dict(data)
    recorded = fields.pop("verdict", None)
    try:
        fields["prereg"] = Preregistration(**fields["prereg"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"record has no valid 'prereg' entry: {err}") from None
    for name in _FLOAT_FIELDS:
        if name == "power" and fields.get(name) is None:
            continue
        fields[name] = _nan(fields.get(name))
    fields["conditions"] = tuple(Condition(**c) for c in fields.get("conditions", ()))
    if (family := fields.get("family")) is not None:
        fields["family"] = FamilyWise(**{**family, "adjusted_p": _nan(family["adjusted_p"])})
    fields["figures"] = tuple(fields.get("figures", ()))
    fields["figure_specs"] = tuple(fields.get("figure_specs", ()))
    result = ClaimResult(**fields)
    if recorded is not None and recorded != result.verdict:
        raise ValueError(f"recorded verdict {recorded!r} is not the one its numbers decide "
                         f"({result.verdict.value!r}); re-run the claim")
    return result


def record_path(records: Path | str, claim_id: str) -> Path:
    if not _CLAIM_ID.match(claim_id):
        raise ValueError(f"claim_id must be a plain file-name-safe id, got {claim_id!r}")
    return Path(records) / f"{claim_id}.json"


def write_record(reports_dir: Path | str, result: ClaimResult) -> Path:
    """Write ``result`` to ``<reports_dir>/records/<claim_id>.json`` atomically; return the path."""
    path = record_path(records_dir(reports_dir), result.claim_id)
    save_json(path, result_to_dict(result))
    return path


def natural_key(claim_id: str) -> tuple[Any, ...]:
    """Sort key putting C2 before C10."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", claim_id))


def resolve(path: Path | str) -> Path:
    """``path`` itself when it holds records, else its ``records`` subdirectory."""
    base = Path(path)
    sub = base / RECORDS_SUBDIR
    return sub if sub.is_dir() and not any(base.glob("*.json")) else base


def read_record(file: Path) -> dict[str, Any]:
    """The JSON of one claim record; unreadable JSON or a record without a claim id is an error
    naming the file."""
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"cannot read claim record {file}: {err}") from None
    prereg = data.get("prereg") if isinstance(data, dict) else None
    if not isinstance(prereg, dict) or not isinstance(prereg.get("claim_id"), str):
        raise ValueError(f"cannot read claim record {file}: no valid 'prereg' entry")
    out: dict[str, Any] = data
    return out


def _control_slug(c: ControlResult) -> str:
    label = re.sub(r"[^A-Za-z0-9]+", "-", c.label).strip("-")[:80]
    return f"{c.claim}-{c.kind}-{label}"


def write_control(records: Path | str, control: ControlResult) -> Path:
    """Write one control result to ``<records>/controls/<claim>-<kind>-<label>.json``."""
    path = Path(records) / CONTROLS_SUBDIR / f"{_control_slug(control)}.json"
    save_json(path, _finite_or_none(attrs.asdict(control)))
    return path


def write_controls(records: Path | str, controls: Sequence[ControlResult]) -> list[Path]:
    """:func:`write_control` for each result."""
    return [write_control(records, c) for c in controls]


_CONTROL_FLOATS = ("alpha", "rate", "ci_low", "ci_high", "mc_se", "bound", "runtime_s")


def load_controls(path: Path | str, run_id: str | None = None) -> list[ControlResult]:
    """Control results under ``path`` (records or reports dir) of run ``run_id`` (every run's when
    None), in :data:`~modes.decisions.controls.CONTROLS` order; files of another shape (written
    before controls carried a run id) are skipped."""
    from modes.decisions.controls import CONTROLS, ids

    folder = resolve(path) / CONTROLS_SUBDIR
    fields = {a.name for a in attrs.fields(ControlResult)}
    out = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        row = json.loads(file.read_text())
        if not isinstance(row, dict) or set(row) != fields:
            continue
        if run_id is not None and row["run_id"] != run_id:
            continue
        for name in _CONTROL_FLOATS:
            row[name] = float("nan") if row[name] is None else float(row[name])
        out.append(ControlResult(**row))
    order = {ids(c): i for i, c in enumerate(CONTROLS)}
    return sorted(out, key=lambda r: order.get(f"{r.claim}-{r.kind}-{r.label}", len(order)))
