"""summary.md and index.html rendered from one run's records: rows, Holm, notes, figures,
expectations, stale records, controls."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import attrs
import numpy as np
import pytest

from modes.decisions.controls import CONTROLS, judge
from modes.report.records import records_dir, write_controls, write_record
from modes.report.render import family_rows, fmt, report_main, verdict_label
from modes.report.specs import FigureSpec
from modes.report.terminal import verdict_table
from modes.stats.claim import (
    INCONCLUSIVE,
    NOT_REPLICATED,
    REPLICATED,
    ClaimResult,
    Preregistration,
    evaluate,
)
from modes.stats.multiple import family_wise

RUN = "20250101T000000-abcdef"


def _prereg(i: int, kind: str = "presence") -> Preregistration:
    return Preregistration(claim_id=f"C{i}", hypothesis=f"Sentence of claim {i} from the paper.",
                           paper_ref=f"Fig. {i}", test="Hartigan's dip test", effect_name="ratio",
                           effect_threshold=3.0, effect_direction="greater",
                           kind=kind, alpha=0.01)  # type: ignore[arg-type]


def _results() -> list[ClaimResult]:
    rng = np.random.default_rng(0)
    spec = FigureSpec("class_density_profiles", "fig1", {"panels": {
        "stage 4": {"means": rng.normal(size=12), "sds": rng.uniform(0.1, 1, 12),
                    "threshold": 0.0}}}).to_dict()
    out = [evaluate(_prereg(1), statistic=0.2, p_value=1e-6, effect_size=9.5, ci=(7.0, 12.0),
                    n=100, scale="full", components={"backbone": "resnet50"},
                    figure_specs=(spec,), runtime_s=3.0, run_id=RUN)]
    out.append(evaluate(_prereg(2, "absence"), statistic=0.03, p_value=0.6, effect_size=1.0,
                        ci=(0.0, 5.0), n=100, power=0.97))
    out.append(evaluate(_prereg(3, "absence"), statistic=0.03, p_value=0.6, effect_size=1.0,
                        ci=(0.0, 5.0), n=20, power=0.4))
    # C4 passes at its own alpha but not after Holm over ten claims
    out.append(evaluate(_prereg(4), statistic=2.5, p_value=0.004, effect_size=4.0,
                        ci=(3.5, 4.5), n=100))
    out.append(evaluate(_prereg(5), statistic=0.5, p_value=0.3, effect_size=1.0, ci=(0.0, 2.0),
                        n=5, expected=NOT_REPLICATED,
                        note="5 bins leave 1 residual df: measured power 0.31"))
    out += [evaluate(_prereg(i), statistic=5.0, p_value=1e-5, effect_size=6.0, ci=(4.0, 8.0),
                     n=50) for i in range(6, 11)]
    return [attrs.evolve(r, run_id=RUN) for r in out]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rows_in_first_table = 0
        self.tables = 0
        self.images: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables += 1
        if tag == "tr" and self.tables == 1 and "tbody" in self.stack:
            self.rows_in_first_table += 1
        if tag == "img":
            self.images.append(a.get("src") or "")
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag not in {"img", "meta", "br"}:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def test_family_rows_apply_holm_to_presence_claims_only() -> None:
    rows = {r.result.claim_id: r for r in family_rows(_results(), family_alpha=0.01)}
    assert rows["C1"].verdict == REPLICATED
    assert rows["C4"].verdict == NOT_REPLICATED and "Holm" in rows["C4"].holm_note
    # 0.004 is the 7th smallest of 10 p-values: Holm multiplies it by 10 - 7 + 1 = 4
    assert rows["C4"].adjusted_p == pytest.approx(0.004 * 4)
    assert rows["C2"].verdict == REPLICATED  # absence: uncorrected p is the stricter one
    assert rows["C3"].verdict == INCONCLUSIVE
    assert rows["C5"].verdict == NOT_REPLICATED and rows["C5"].result.as_expected
    assert verdict_label(rows["C5"].result) == "not replicated (expected)"
    assert verdict_label(rows["C4"].result) == "not replicated"
    with pytest.raises(ValueError, match="unique"):
        family_rows(_results() + _results()[:1])
    with pytest.raises(ValueError, match="one run"):
        family_rows([_results()[0], attrs.evolve(_results()[1], run_id="another run")])


def test_report_main_writes_a_readable_page(tmp_path: Path) -> None:
    for res in _results():
        write_record(tmp_path, res)
    write_controls(records_dir(tmp_path), [judge(c, 2, 300, "SPRT accepted alpha", run_id=RUN)
                                           for c in CONTROLS[:3]]
                   + [judge(CONTROLS[3], 0, 300, run_id="an older run")])
    written = report_main(records_dir(tmp_path), tmp_path)
    names = {p.name for p in written}
    assert {"summary.md", "index.html", "fig1.png"} <= names
    page = (tmp_path / "index.html").read_text()
    parser = _Collector()
    parser.feed(page)
    assert parser.stack == [], f"unclosed tags {parser.stack}"
    assert parser.rows_in_first_table == 10
    assert {f"C{i}" for i in range(1, 11)} | {"controls"} <= parser.ids
    assert any(src.startswith("data:image/png;base64,iVBOR") for src in parser.images)
    assert "Sentence of claim 1 from the paper." in page
    assert "5 bins leave 1 residual df: measured power 0.31" in page
    assert "not replicated (expected)" in page and f"Run {RUN}" in page
    assert "Hartigan&#x27;s dip test" in page
    md = (tmp_path / "summary.md").read_text()
    assert md.split("\n## ")[0].count("\n| C") == 10 and "## Controls" in md
    assert md.count("\n| C1 | null |") == 1 and md.count("\n| C1s |") == 0  # this run's only
    assert "- Controls (alpha 0.01): false-positive rate 0.007" in md
    assert "](figures/fig1.png)" in md
    assert "not below the family-wise alpha" in md
    assert "Expected at smoke: not replicated (modes/expected), as measured" in md
    assert "Stale records" not in md


def test_stale_records_are_listed_apart_and_left_out_of_holm(tmp_path: Path) -> None:
    results = _results()
    for res in results:
        write_record(tmp_path, res)
    # an earlier run at another scale left C11, whose tiny p would change Holm's step-down
    stale = evaluate(_prereg(11), statistic=9.0, p_value=1e-9, effect_size=9.0, ci=(8.0, 10.0),
                     n=500, scale="full", run_id="19990101T000000-000000")
    old = write_record(tmp_path, stale)
    os.utime(old, (old.stat().st_atime - 60, old.stat().st_mtime - 60))
    report_main(records_dir(tmp_path), tmp_path)
    md = (tmp_path / "summary.md").read_text()
    assert md.count("\n| C") == 11  # ten claims and one stale record
    assert "## Stale records" in md and "| C11 | replicated | 19990101T000000-000000 | full" in md
    assert "## C11" not in md and "Holm over 10 primary p-values" in md
    assert "Stale records" in (tmp_path / "index.html").read_text()

def test_missing_figures_are_reported_not_fatal(tmp_path: Path) -> None:
    res = evaluate(_prereg(1), statistic=0.2, p_value=1e-6, effect_size=9.5, ci=(7.0, 12.0),
                   n=100, figures=("figures/never_drawn.png",), run_id=RUN)
    write_record(tmp_path, res)
    report_main(records_dir(tmp_path), tmp_path)
    assert "figure missing" in (tmp_path / "index.html").read_text()


def test_fmt() -> None:
    assert fmt(None) == fmt(float("nan")) == "—"
    assert fmt(0.0123456) == "0.0123" and fmt(1.5e-7) == "1.50e-07" and fmt(0) == "0"


def test_density_measurements_are_shown_side_by_side(tmp_path: Path) -> None:
    measures = {
        "checked": {"verdict": NOT_REPLICATED, "p_value": 0.4, "effect_size": 1.1,
                    "null_hits": 0, "null_replicates": 0, "flagged": [], "note": ""},
        "paper": {"verdict": REPLICATED, "p_value": 1e-5, "effect_size": 7.5, "null_hits": 3,
                  "null_replicates": 4, "flagged": ["stage4, class 2: degenerate components"],
                  "note": ""},
    }
    result = evaluate(_prereg(1), statistic=0.1, p_value=0.4, effect_size=1.1, ci=(0.9, 1.3),
                      n=30, details={"measures": measures}, run_id=RUN)
    rows = family_rows([result])
    from modes.report.render import measure_rows, render_html, render_markdown

    assert measure_rows(rows) == [["C1", NOT_REPLICATED, NOT_REPLICATED, "—", "0",
                                   REPLICATED, "1.00e-05", "7.5", "3/4", "1"]]
    md = render_markdown(rows, [], tmp_path, 0.01)
    assert "## Density measurements side by side" in md
    assert "paper measurement: replicated" in md and "degenerate components" in md
    assert "Density measurements side by side" in render_html(rows, [], 0.01)


def test_terminal_table_has_one_line_per_claim_with_holm_and_short_notes() -> None:
    placed = family_wise(_results(), alpha=0.01)
    lines = verdict_table(placed, width=80)
    assert lines[0].split() == ["claim", "verdict", "Holm", "p", "effect", "note"]
    assert len(lines) == 11 and all(len(line) <= 80 for line in lines)
    by_claim = {line.split()[0]: line for line in lines[1:]}
    assert "not replicated" in by_claim["C4"] and "0.016" in by_claim["C4"]
    assert "replicated at its own alpha" in by_claim["C4"] and by_claim["C4"].endswith("…")
    assert "not replicated (expected)" in by_claim["C5"]
    assert by_claim["C1"].split()[1:3] == ["replicated", "1.00e-05"]


def test_page_escapes_record_text() -> None:
    """Text from records (hypothesis, notes, details, measurement flags) is escaped by the
    templates' autoescaping: a record cannot inject markup into the page."""
    from modes.report.render import render_html

    hostile = "<script>alert('x')</script> & \"q\""
    prereg = attrs.evolve(_prereg(1), hypothesis=hostile, paper_ref=hostile)
    measures = {"paper": {"verdict": hostile, "flagged": [hostile], "note": hostile}}
    result = evaluate(prereg, statistic=0.1, p_value=0.4, effect_size=1.1, ci=(0.9, 1.3), n=30,
                      note=hostile, details={hostile: hostile, "measures": measures}, run_id=RUN)
    page = render_html(family_rows([result]), [], 0.01, generated=hostile, run_id=hostile)
    assert "<script>" not in page
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;") >= 8
    parser = _Collector()
    parser.feed(page)
    assert parser.stack == []
