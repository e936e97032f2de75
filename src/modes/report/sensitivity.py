"""The sensitivity table in the report: its rows on disk, and its Markdown and HTML sections.

Each claim's test writes its row (:class:`modes.sensitivity.SensitivityTable` of one
claim) to ``<records>/sensitivity/<claim>.json``, stamped with the run id like the claim records;
the report merges the rows of its run (:func:`load_table`) into one table, claims x choices, each
cell the claim's own verdict (before Holm), p-value and effect size under that choice, or why
the choice was not run for the claim.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from markupsafe import Markup

from modes.report import pages
from modes.report.records import _finite_or_none, natural_key, record_path, resolve
from modes.sensitivity import CHOICES, Cell, SensitivityTable
from modes.store import save_json

SENSITIVITY_SUBDIR = "sensitivity"
TITLE = "Sensitivity to the analytic choices"
NOTE = ("Each claim decided again under each analytic choice where the paper's text and the "
        "authors' code differ, everything else as in the default analysis: its own verdict "
        "before the run's Holm correction (p, effect size). The predictive and averaging "
        "choices re-read the default run's chains (no new sampling), except for C6 and C7, "
        "whose bin models are retrained on the bins cut from the re-read densities; block "
        "update, SVD centring and noise space refit. Refitting and retraining cells run with "
        "--modes-sensitivity; a cell not run says why ('n/a': the choice changes none of the "
        "claim's inputs). 'robust': every choice run gives the default verdict.")


def write_row(records: Path | str, run_id: str, table: SensitivityTable) -> Path:
    """Write one claim's row (``table`` of one claim) for run ``run_id``; returns the path."""
    if len(table.claims) != 1:
        raise ValueError(f"a sensitivity row holds one claim, got {list(table.claims)}")
    name = record_path(Path(records) / SENSITIVITY_SUBDIR, table.claims[0])
    save_json(name, _finite_or_none({"run_id": run_id, "table": table.to_json()}))
    return name


def _cell(data: dict[str, object]) -> dict[str, object]:
    return {k: (math.nan if v is None else v) for k, v in data.items()}


def load_table(path: Path | str, run_id: str) -> SensitivityTable | None:
    """The rows of run ``run_id`` under ``path`` (a records or reports directory) as one table,
    claims in natural order; None when the run wrote none. A row that cannot be read is an
    error naming the file."""
    folder = resolve(path) / SENSITIVITY_SUBDIR
    rows = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(file.read_text())
            if data.get("run_id") != run_id:
                continue
            table = data["table"]
            table["baseline"] = {k: _cell(v) for k, v in table["baseline"].items()}
            table["cells"] = {k: {c: _cell(v) for c, v in row.items()}
                              for k, row in table["cells"].items()}
            rows.append(SensitivityTable.from_json(table))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"cannot read sensitivity row {file}: {err!r}") from None
    if not rows:
        return None
    return SensitivityTable.merge(sorted(rows, key=lambda t: natural_key(t.claims[0])))


def cell_text(cell: Cell | None, reason: str | None = None) -> str:
    """A cell's verdict, p and effect; without a cell, why it was not run (or "—")."""
    if cell is None:
        return reason or "—"
    return f"{cell.verdict} (p {cell.p_value:.2g}, effect {cell.effect:.3g})"


def robust_text(table: SensitivityTable, claim: str) -> str:
    """"yes" / "no", or "—" when no choice was run for the claim."""
    if not table.cells.get(claim):
        return "—"
    return "yes" if table.robust(claim) else "no"


def _rows(table: SensitivityTable) -> list[list[str]]:
    return [[claim, cell_text(table.baseline.get(claim)),
             *(cell_text(table.cells.get(claim, {}).get(c), table.reason(claim, c))
               for c in table.choices),
             robust_text(table, claim)] for claim in table.claims]


def header(table: SensitivityTable) -> list[str]:
    return ["claim", "default", *table.choices, "robust"]


def _sources(table: SensitivityTable) -> list[tuple[str, str]]:
    return [(c.name, c.source) for c in CHOICES if c.name in table.choices]


def markdown(table: SensitivityTable | None) -> str:
    """The report's Markdown section ("" without a table)."""
    if table is None:
        return ""
    head = header(table)
    lines = ["", f"## {TITLE}", "", NOTE, "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
              for row in _rows(table)]
    lines += [""] + [f"- `{name}`: {source}" for name, source in _sources(table)]
    return "\n".join(lines) + "\n"


def html_section(table: SensitivityTable | None) -> Markup:
    """The report's HTML section (empty without a table), from ``templates/sensitivity.html.j2``;
    ``Markup`` (autoescaped by its template), so the page's template places it as it is."""
    if table is None:
        return Markup("")
    rows = [{"claim": claim, "robust": texts[-1],
             "cells": list(zip(texts[1:-1], [table.baseline.get(claim),
                                             *(table.cells.get(claim, {}).get(c)
                                               for c in table.choices)], strict=True))}
            for claim, texts in zip(table.claims, _rows(table), strict=True)]
    return Markup(pages.render("sensitivity.html.j2", title=TITLE, note=NOTE,
                               header=header(table), rows=rows,
                               sources=_sources(table)).rstrip("\n"))
