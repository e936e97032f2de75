"""The report's planted-world tables (modes.report.worlds): records of runs split over processes
merge per design, counts and rates per world and claim, targets met only with enough seeds,
earlier pipeline versions left out, bad records named."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from modes.report import worlds
from modes.report.render import render_html
from modes.report.worlds import TARGETS, Target, WorldDesign, WorldRun, WorldTable

DESIGN = WorldDesign(classes=150, n=300, dims=[8, 8, 16, 16], planted="blobs",
                     planted_fraction=0.25, components=5, radius=0.05, scale="smoke",
                     overrides=(), claims=("C1", "C2"))


def _run(world: str, seed: int, c1: str, c2: str = "replicated") -> WorldRun:
    return WorldRun(world=world, seed=seed, sha256=f"{seed:064x}",
                    family={"C1": c1, "C2": c2}, own={"C1": c1, "C2": c2}, seconds=1800.0,
                    commit="abc1234")


def _row(table: WorldTable, world: str, claim: str) -> list[str]:
    return next(r for r in worlds.rows(table) if r[:2] == [world, claim])


def test_runs_of_one_design_from_several_processes_form_one_table(tmp_path: Path) -> None:
    for seed in range(3):  # "process 1"
        worlds.write_run(tmp_path, DESIGN, _run("two-mode", seed, "replicated"))
    worlds.write_run(tmp_path, DESIGN, _run("two-mode", 3, "inconclusive"))  # "process 2"
    worlds.write_run(tmp_path, DESIGN, _run("null", 0, "not replicated"))
    other = attrs.evolve(DESIGN, radius=0.3)
    worlds.write_run(tmp_path, other, _run("null", 0, "replicated"))
    tables, left_out = worlds.load_tables(tmp_path)
    assert left_out == 0 and [t.design for t in tables] == sorted([DESIGN, other], key=str)
    table = next(t for t in tables if t.design == DESIGN)
    assert table.worlds() == ["null", "two-mode"] and table.seeds("two-mode") == 4
    assert _row(table, "two-mode", "C1") == [
        "two-mode", "C1", "4", "3 (3)", "0 (0)", "1 (1)", "0.75 (0.19-0.99)",
        ">= 90% replicated: open (4 of 20 seeds)"]
    assert _row(table, "null", "C2")[-1] == "—"  # no target of issue 10's
    # a run done again replaces its record
    worlds.write_run(tmp_path, DESIGN, _run("two-mode", 3, "replicated"))
    again = next(t for t in worlds.load_tables(tmp_path)[0] if t.design == DESIGN)
    assert again.seeds("two-mode") == 4 and _row(again, "two-mode", "C1")[3] == "4 (4)"


def test_targets_are_called_only_at_twenty_seeds() -> None:
    runs = [_run("two-mode", s, "replicated" if s < 18 else "inconclusive") for s in range(20)]
    runs += [_run("null", s, "replicated" if s == 0 else "not replicated") for s in range(20)]
    table = WorldTable(DESIGN, tuple(runs))
    assert _row(table, "two-mode", "C1")[-1] == ">= 90% replicated: met"  # 18 of 20
    assert _row(table, "null", "C1")[-1] == "<= 5% replicated: met"  # 1 of 20
    worse = WorldTable(DESIGN, (*runs[1:20], _run("two-mode", 20, "not replicated"),
                                *runs[20:]))
    assert _row(worse, "two-mode", "C1")[-1] == ">= 90% replicated: missed"  # 17 of 20
    assert Target(False, 0.05).holds(1, 20) and not Target(False, 0.05).holds(2, 20)
    assert set(TARGETS) == {("two-mode", "C1"), ("two-mode", "C2"), ("two-mode", "C4"),
                            ("null", "C1")}


def test_a_missing_verdict_is_counted_nowhere() -> None:
    table = WorldTable(DESIGN, (_run("null", 0, "missing"), _run("null", 1, "not replicated")))
    assert _row(table, "null", "C1")[2:6] == ["2", "0 (0)", "1 (1)", "0 (0)"]


def test_earlier_pipeline_versions_are_left_out_and_counted(tmp_path: Path) -> None:
    worlds.write_run(tmp_path, attrs.evolve(DESIGN, pipeline="2"), _run("null", 0, "replicated"))
    assert worlds.load_tables(tmp_path) == ([], 1)
    assert worlds.markdown([], 1) == "" and worlds.html_section([], 1) == ""


def test_design_key_is_stable_and_names_every_setting() -> None:
    same = WorldDesign(**json.loads(json.dumps(attrs.asdict(DESIGN))))
    assert same == DESIGN and same.key == DESIGN.key
    assert len({attrs.evolve(DESIGN, **change).key for change in (
        {}, {"n": 100}, {"radius": 0.3}, {"claims": ("C1",)}, {"overrides": ("a.b=1",)},
        {"pipeline": "2"})}) == 6


def test_bad_records_and_names_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain name"):
        worlds.write_run(tmp_path, DESIGN, _run("../null", 0, "replicated"))
    path = worlds.write_run(tmp_path, DESIGN, _run("null", 0, "replicated"))
    path.write_text('{"design": {"classes": 3}}')
    with pytest.raises(ValueError, match=r"null-0\.json"):
        worlds.load_tables(tmp_path)


def test_sections_go_into_the_page_and_the_summary(tmp_path: Path) -> None:
    table = WorldTable(DESIGN, (_run("two-mode", 0, "replicated"), _run("null", 0, "missing")))
    md = worlds.markdown([table], 2)
    assert "## Planted worlds" in md and "2 design(s) of an earlier pipeline version" in md
    assert "\n| two-mode | C1 | 1 | 1 (1) | 0 (0) | 0 (0) | 1.00 (0.03-1.00) |" in md
    assert "design " + DESIGN.key in md and "commit abc1234" in md
    section = worlds.html_section([table])
    assert "<table class='worlds'>" in section and section.count("<tr>") == 5
    odd = worlds.html_section([attrs.evolve(table, design=attrs.evolve(DESIGN, scale="s<m>"))])
    assert "scale s&lt;m&gt;" in odd
    page = render_html([], [], 0.01, worlds=([table], 0))
    assert page.index("<h1>") < page.index("id='worlds'") < page.index("</body>")
    assert page.replace(section + "\n", "") == render_html([], [], 0.01)
