"""Render ``summary.md`` and ``index.html`` from the claims' JSON records of one run (and the
run's sensitivity table, rendered by :mod:`modes.report.sensitivity`, and the planted-world
tables, :mod:`modes.report.worlds`).

The claims of the run are placed in their family (:func:`modes.stats.multiple.family_wise`, Holm
across their primary p-values) and every verdict shown is the record's own, read from
:func:`modes.stats.claim.decide`. Records of other runs are listed apart as stale, with the
verdict they recorded (:mod:`modes.report.runs`).
"""

from __future__ import annotations

import base64
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from modes.decisions.controls import ControlResult
from modes.report import pages
from modes.report import sensitivity as sensitivity_section
from modes.report import worlds as worlds_section
from modes.report.atomic import write_text
from modes.report.records import load_controls
from modes.report.runs import RunRecords, StaleRecord, load_run
from modes.report.specs import redraw
from modes.stats.claim import ClaimResult, scale_label
from modes.stats.multiple import DEFAULT_FAMILY_ALPHA, family_wise
from modes.stats.verdict import Verdict

if TYPE_CHECKING:
    from modes.sensitivity import SensitivityTable

WorldTables = tuple[Sequence[worlds_section.WorldTable], int]
"""The planted-world tables to show and how many designs were left out
(:func:`modes.report.worlds.load_tables`)."""

FIGURES_SUBDIR = "figures"


@attrs.frozen(eq=False)
class Row:
    """One claim in the report: its result, placed in the run's family, and its figure paths."""

    result: ClaimResult
    figures: tuple[Path, ...]

    @property
    def verdict(self) -> Verdict:
        return self.result.verdict

    @property
    def adjusted_p(self) -> float | None:
        family = self.result.family
        return None if family is None or math.isnan(family.adjusted_p) else family.adjusted_p

    @property
    def holm_note(self) -> str:
        decision = self.result.decision
        return decision.reason if decision.by == "family" else ""


def family_rows(results: Sequence[ClaimResult], family_alpha: float = DEFAULT_FAMILY_ALPHA,
                figures: Sequence[Sequence[Path]] | None = None) -> list[Row]:
    """The run's claims placed in their family, with their figures."""
    placed = family_wise(results, family_alpha)
    return [Row(result=r, figures=tuple(figures[i]) if figures is not None
                else tuple(Path(f) for f in r.figures)) for i, r in enumerate(placed)]


def verdict_label(result: ClaimResult) -> str:
    """The verdict, and the run's expectation when that is not ``replicated``."""
    if result.expected is Verdict.REPLICATED:
        return result.verdict.value
    if result.as_expected:
        return f"{result.verdict.value} (expected)"
    return f"{result.verdict.value} (expected {result.expected.value})"


def fmt(x: float | None, digits: int = 3) -> str:
    """A number for a table: ``—`` when missing or NaN, scientific when tiny or huge."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 1)}e}"


def _ci(r: ClaimResult) -> str:
    return f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}]"


def _components(r: ClaimResult) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(r.components.items())) or "—"


def _threshold(r: ClaimResult) -> str:
    sym = {"greater": ">=", "less": "<=", "abs": "|·| >="}[r.prereg.effect_direction]
    return f"{r.prereg.effect_name} {sym} {r.prereg.effect_threshold:g}"


def _columns(row: Row) -> list[str]:
    r = row.result
    return [r.claim_id, verdict_label(r), r.prereg.test, fmt(r.statistic), fmt(r.p_value),
            fmt(row.adjusted_p), f"{r.prereg.effect_name} = {fmt(r.effect_size)}", _ci(r),
            str(r.n), fmt(r.power), r.scale_label, _components(r), f"{r.runtime_s:.1f} s"]


HEADER = ["claim", "verdict", "test", "statistic", "p", "Holm p", "effect size", "95% CI", "n",
          "power", "scale", "components", "runtime"]


def _counts(rows: Sequence[Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.verdict.value] = counts.get(row.verdict.value, 0) + 1
    return counts


STALE_HEADER = ["claim", "recorded verdict", "run", "scale", "components"]
STALE_NOTE = ("Records left by other runs (another scale, backbone, dataset or seed, or written "
              "before records carried a run id); not part of this run's family or verdicts.")


def stale_rows(stale: Sequence[StaleRecord]) -> list[list[str]]:
    return [[s.claim_id, s.verdict, s.run_id or "(none)", scale_label(s.scale, s.overrides) or "—",
             ", ".join(f"{k}={v}" for k, v in sorted(s.components.items())) or "—"]
            for s in stale]


def _why(r: ClaimResult) -> list[tuple[str, str]]:
    """(label, text) lines saying what set the verdict beyond the test, and the expectation."""
    out = []
    decision = r.decision
    if decision.by == "family":
        out.append(("Family-wise", decision.reason))
    elif decision.by == "condition":
        out.append(("Side condition", decision.reason))
    if r.expected is not Verdict.REPLICATED:
        measured = "as measured" if r.as_expected else f"measured {r.verdict.value}"
        out.append((f"Expected at {r.scale_label}",
                    f"{r.expected.value} (modes/expected), {measured}"))
    if r.note:
        out.append(("Note", r.note))
    return out


def _rel(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path.resolve(), base.resolve())
    except ValueError:  # another drive on Windows
        return str(path)


def _passed(c: ControlResult) -> str:
    text = {True: "yes", False: "NO", None: "—"}[c.passed]
    return text + (" (known defect, expected)" if c.known_defect and c.passed is False else "")


CONTROL_HEADER = ["claim", "kind", "planted input", "rate (hits/reps)", "95% CI", "MC SE",
                  "alpha", "criterion", "stopped", "passed"]
CONTROLS_NOTE = ("Each claim's own decision function on planted inputs shaped like the real ones, "
                 "at the claim's alpha: false-positive rate on nulls (the claim false), power on "
                 "planted effects; repetitions by a sequential rule (SPRT of alpha against 2 alpha "
                 "for nulls, 99% Clopper-Pearson for power), with exact 95% CIs and Monte Carlo "
                 "SEs; this run's controls only.")


def control_cells(c: ControlResult) -> list[str]:
    return [c.claim, c.kind, c.label, f"{c.rate:.4f} ({c.hits}/{c.reps})",
            f"[{c.ci_low:.4f}, {c.ci_high:.4f}]", f"{c.mc_se:.4f}", f"{c.alpha:g}",
            c.criterion(), c.stopped, _passed(c)]


def control_summary(claim_id: str, controls: Sequence[ControlResult]) -> str:
    """One line per claim: its nulls' false-positive rates and its planted power, with CIs."""
    mine = [c for c in controls if c.claim == claim_id]
    parts = [f"{'false-positive rate' if c.kind == 'null' else 'power'} {c.rate:.3f} "
             f"[{c.ci_low:.3f}, {c.ci_high:.3f}], {c.reps} reps ({c.label}; {_passed(c)})"
             for c in mine]
    return "; ".join(parts)


MEASURE_HEADER = ["claim", "verdict (checked)", "checked: raw decision",
                  "checked: matched-null rate", "checked: flagged classes", "paper: verdict",
                  "paper: p", "paper: effect", "paper: matched-null rate",
                  "paper: flagged classes"]
MEASURES_NOTE = (
    "Each density-based claim decided under two measurements of class log-densities: the "
    "paper's (authors' NIW prior, in-sample Eq. 3, one chain from K0 = 6 random components) and "
    "the checked one (firm prior, cross-fitted held-out Eq. 3, four dispersed chains). Both are "
    "run on matched nulls (each class redrawn from one Gaussian with its mean and covariance); "
    "the rate is how often the nulls show the claimed pattern. Flagged classes: chains disagree, "
    "collapsed components, or in-sample far above held-out.")


def _rate(m: dict[str, object]) -> str:
    reps = m.get("null_replicates") or 0
    if not reps:
        return "—"
    return f"{m.get('null_hits')}/{reps}"


def measure_rows(rows: Sequence[Row]) -> list[list[str]]:
    """One line per claim that records both measurements (``details["measures"]``)."""
    out = []
    for row in rows:
        measures = row.result.details.get("measures")
        if not isinstance(measures, dict) or not {"paper", "checked"} <= set(measures):
            continue
        c, p = measures["checked"], measures["paper"]
        out.append([row.result.claim_id, row.verdict.value, str(c.get("verdict")), _rate(c),
                    str(len(c.get("flagged") or [])), str(p.get("verdict")),
                    fmt(p.get("p_value")), fmt(p.get("effect_size")), _rate(p),
                    str(len(p.get("flagged") or []))])
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _run(run_id: str) -> str:
    return f"Run {run_id}: " if run_id else ""


def render_markdown(rows: Sequence[Row], controls: Sequence[ControlResult], out_dir: Path,
                    family_alpha: float, run_id: str = "",
                    stale: Sequence[StaleRecord] = ()) -> str:
    """The Markdown summary: overview table, one section per claim, stale records, controls."""
    n_p = sum(r.adjusted_p is not None for r in rows)
    lines = ["# modes: re-derived findings", "",
             f"{_run(run_id)}family-wise alpha {family_alpha:g} (Holm over {n_p} primary "
             "p-values of this run's claims). "
             + ", ".join(f"{k}: {v}" for k, v in sorted(_counts(rows).items())), "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_md_cell(c) for c in _columns(row)) + " |" for row in rows]
    if table := measure_rows(rows):
        lines += ["", "## Density measurements side by side", "", MEASURES_NOTE, "",
                  "| " + " | ".join(MEASURE_HEADER) + " |", "|" + "---|" * len(MEASURE_HEADER)]
        lines += ["| " + " | ".join(_md_cell(c) for c in cells) + " |" for cells in table]
    for row in rows:
        r = row.result
        lines += ["", f"## {r.claim_id}: {verdict_label(r)}", "", f"> {r.prereg.hypothesis} "
                  f"({r.prereg.paper_ref})", "",
                  f"- Pre-registered: {r.prereg.kind} claim; {r.prereg.test}; alpha "
                  f"{r.prereg.alpha:g}; {_threshold(r)}"
                  + (f"; power needed {r.prereg.min_power:g}" if r.prereg.kind == "absence"
                     else "")]
        lines += [f"- {label}: {text}" for label, text in _why(r)]
        if summary := control_summary(r.claim_id, controls):
            lines.append(f"- Controls (alpha {r.prereg.alpha:g}): {summary}")
        for key, value in sorted(r.details.items()):
            if key != "measures":
                lines.append(f"- {key}: {value}")
        for name, m in sorted(r.details.get("measures", {}).items()):
            lines.append(f"- {name} measurement: {m.get('verdict')} (p {fmt(m.get('p_value'))}, "
                         f"effect {fmt(m.get('effect_size'))}; matched nulls {_rate(m)}; "
                         f"flagged: {'; '.join(m.get('flagged') or []) or 'none'})"
                         + (f"; {m['note']}" if m.get("note") else ""))
        if row.figures:
            lines.append("")
        lines += [f"![{r.claim_id} {p.stem}]({_rel(p, out_dir)})" for p in row.figures]
    if stale:
        lines += ["", "## Stale records", "", STALE_NOTE, "",
                  "| " + " | ".join(STALE_HEADER) + " |", "|" + "---|" * len(STALE_HEADER)]
        lines += ["| " + " | ".join(_md_cell(c) for c in cells) + " |"
                  for cells in stale_rows(stale)]
    if controls:
        lines += ["", "## Controls (planted inputs)", "", CONTROLS_NOTE, "",
                  "| " + " | ".join(CONTROL_HEADER) + " |", "|" + "---|" * len(CONTROL_HEADER)]
        lines += ["| " + " | ".join(_md_cell(x) for x in control_cells(c)) + " |"
                  for c in controls]
    return "\n".join(lines) + "\n"


@attrs.frozen
class InlineFigure:
    """A figure as the page shows it: its PNG as base64 (empty when the file is missing)."""

    path: Path
    caption: str
    data: str


def inline_figure(path: Path, claim_id: str) -> InlineFigure:
    data = base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else ""
    return InlineFigure(path, f"{claim_id}: {path.stem}", data)


def _measurements(r: ClaimResult) -> list[tuple[str, dict[str, Any]]]:
    return sorted(r.details.get("measures", {}).items())


def _flagged(m: dict[str, Any]) -> str:
    return "; ".join(m.get("flagged") or []) or "none"


def _extra_details(r: ClaimResult) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in sorted(r.details.items()) if k != "measures"]


def render_html(rows: Sequence[Row], controls: Sequence[ControlResult], family_alpha: float,
                generated: str = "", run_id: str = "", stale: Sequence[StaleRecord] = (),
                sensitivity: SensitivityTable | None = None,
                worlds: WorldTables = ((), 0)) -> str:
    """A self-contained page (figures inline as base64 PNG), from ``templates/index.html.j2``,
    ending with the sensitivity table's section when given (:mod:`modes.report.sensitivity`)
    and the planted-world tables (:mod:`modes.report.worlds`)."""
    return pages.render(
        "index.html.j2", rows=rows, controls=controls, family_alpha=family_alpha,
        sensitivity=sensitivity_section.html_section(sensitivity),
        worlds=worlds_section.html_section(*worlds),
        generated=generated, run_prefix=_run(run_id),
        n_p=sum(r.adjusted_p is not None for r in rows),
        counts=", ".join(f"{k}: {v}" for k, v in sorted(_counts(rows).items())),
        header=HEADER, measures=measure_rows(rows), measure_header=MEASURE_HEADER,
        measures_note=MEASURES_NOTE, stale=stale_rows(stale), stale_header=STALE_HEADER,
        stale_note=STALE_NOTE, control_rows=[control_cells(c) for c in controls],
        control_header=CONTROL_HEADER, controls_note=CONTROLS_NOTE, columns=_columns,
        verdict_label=verdict_label, threshold=_threshold, fmt=fmt, ci=_ci,
        components=_components, why=_why, control_summary=control_summary, rate=_rate,
        measurements=_measurements, flagged=_flagged, extra_details=_extra_details,
        figures=lambda row: [inline_figure(p, row.result.claim_id) for p in row.figures])


def _resolve_figure(path: str, out_dir: Path) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return out_dir / p


def write_report(run: RunRecords, out_dir: Path | str, controls: Sequence[ControlResult] = (),
                 family_alpha: float = DEFAULT_FAMILY_ALPHA,
                 sensitivity: SensitivityTable | None = None,
                 worlds: WorldTables = ((), 0)) -> list[Path]:
    """Redraw the run's figure specs into ``<out_dir>/figures``, then write ``summary.md`` and
    ``index.html`` (with the sensitivity table, :mod:`modes.report.sensitivity`, when given, and
    the planted-world tables and how many designs were left out,
    :func:`modes.report.worlds.load_tables`); returns every path written."""
    out = Path(out_dir)
    fig_dir = out / FIGURES_SUBDIR
    written: list[Path] = []
    per_claim: list[list[Path]] = []
    for r in run.results:
        drawn = redraw(r.figure_specs, fig_dir)
        written += drawn
        paths = {p.resolve(): p for p in [_resolve_figure(f, out) for f in r.figures] + drawn}
        per_claim.append(list(paths.values()))
    rows = family_rows(run.results, family_alpha, per_claim)
    md = out / "summary.md"
    page = out / "index.html"
    text_md = render_markdown(rows, controls, out, family_alpha, run.run_id, run.stale)
    text_html = render_html(rows, controls, family_alpha, time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                            run.run_id, run.stale, sensitivity, worlds)
    text_md += sensitivity_section.markdown(sensitivity) + worlds_section.markdown(*worlds)
    write_text(md, text_md)
    write_text(page, text_html)
    return [*written, md, page]


def report_main(records_dir: Path | str, out_dir: Path | str,
                family_alpha: float = DEFAULT_FAMILY_ALPHA, run_id: str | None = None
                ) -> list[Path]:
    """``modes report``: regenerate figures, summary.md and index.html from the JSON records of
    run ``run_id`` (default: the latest, :func:`modes.report.runs.latest_run`) and that run's
    control results (``<records_dir>/controls/``), with every planted-world table there."""
    run = load_run(records_dir, run_id)
    return write_report(run, out_dir, load_controls(records_dir, run.run_id), family_alpha,
                        sensitivity_section.load_table(records_dir, run.run_id),
                        worlds_section.load_tables(records_dir))
