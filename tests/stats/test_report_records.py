"""JSON records: round trip, strict JSON, atomic concurrent writes, claim ordering, the
recorded verdict checked against the numbers, and which records form a run."""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest

from modes.decisions.controls import CONTROLS, judge
from modes.report.records import (
    load_controls,
    record_path,
    records_dir,
    write_controls,
    write_record,
)
from modes.report.runs import load_run
from modes.stats.claim import ClaimResult, Preregistration, evaluate, require
from modes.stats.multiple import family_wise
from modes.stats.verdict import Verdict

RUN = "20250101T000000-abcdef"


def load_records(path: Path, run_id: str = RUN) -> tuple[ClaimResult, ...]:
    return load_run(path, run_id).results


def make_result(claim_id: str, p: float = 0.001, effect: float = 5.0,
                power: float | None = None, **fields: object) -> ClaimResult:
    prereg = Preregistration(claim_id=claim_id, hypothesis=f"hypothesis of {claim_id}",
                             paper_ref="Fig. 1", test="dip test", effect_name="ratio",
                             effect_threshold=3.0, effect_direction="greater")
    fields.setdefault("run_id", RUN)
    return evaluate(prereg, statistic=0.12, p_value=p, effect_size=effect,
                    ci=(effect - 1, effect + 1), n=20, power=power, **fields)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    res = make_result("C1", power=0.93, scale="smoke", overrides=("density.sweeps=100",),
                      components={"backbone": "resnet18"},
                      details={"gap": 3.5, "stages": [3, 4], "nested": {"a": 1}},
                      runtime_s=1.25, figures=("figures/fig1.png",),
                      figure_specs=({"kind": "stage_kl", "stem": "f", "data": {}},), note="n")
    res = require(res, False, "side condition (x=2)", Verdict.INCONCLUSIVE)
    (res,) = family_wise([res], alpha=0.05)
    path = write_record(tmp_path, res)
    assert path == records_dir(tmp_path) / "C1.json"
    assert json.loads(path.read_text())["verdict"] == "inconclusive"
    (loaded,) = load_records(tmp_path)
    assert attrs.asdict(loaded) == attrs.asdict(res)
    assert loaded.verdict is Verdict.INCONCLUSIVE
    assert loaded.explanation == "n; side condition (x=2)"


def test_a_recorded_verdict_must_be_the_one_its_numbers_decide(tmp_path: Path) -> None:
    path = write_record(tmp_path, make_result("C1"))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "verdict": "not replicated"}))
    with pytest.raises(ValueError, match=r"C1\.json.*recorded verdict 'not replicated'"):
        load_records(tmp_path)


def test_non_finite_numbers_are_strict_json_and_come_back_as_nan(tmp_path: Path) -> None:
    res = make_result("C2", p=math.nan, effect=math.nan, details={"x": math.inf})
    path = write_record(tmp_path, res)
    json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    (loaded,) = load_records(records_dir(tmp_path))
    assert math.isnan(loaded.p_value) and math.isnan(loaded.effect_size)
    assert loaded.details["x"] is None and loaded.power is None


def test_concurrent_writers_leave_complete_records(tmp_path: Path) -> None:
    results = [make_result(f"C{i % 10 + 1}", effect=float(i)) for i in range(60)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda r: write_record(tmp_path, r), results))
    loaded = load_records(tmp_path)
    assert [r.claim_id for r in loaded] == [f"C{i}" for i in range(1, 11)]  # natural order
    assert not list(records_dir(tmp_path).glob(".*.tmp"))


def test_bad_ids_and_bad_records(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="claim_id"):
        record_path(tmp_path, "../C1")
    records = records_dir(tmp_path)
    records.mkdir(parents=True)
    (records / "C3.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"C3\.json"):
        load_records(tmp_path)
    (records / "C3.json").write_text(json.dumps({"statistic": 1.0}))
    with pytest.raises(ValueError, match="prereg"):
        load_records(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        load_records(tmp_path / "nowhere")


def _age(path: Path, seconds: float) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))


def test_only_one_runs_records_are_current(tmp_path: Path) -> None:
    old = write_record(tmp_path, make_result("C1", run_id="old-run", scale="full",
                                             overrides=("robustness.bins=20",)))
    _age(old, 60)
    write_record(tmp_path, make_result("C2", run_id="new-run"))
    write_record(tmp_path, make_result("C3", run_id="new-run"))
    legacy = json.loads(write_record(tmp_path, make_result("C4")).read_text())
    del legacy["run_id"], legacy["conditions"]
    legacy["verdict"] = "expected-fail at smoke"  # a record from before run ids and the enum
    (records_dir(tmp_path) / "C4.json").write_text(json.dumps(legacy))
    _age(records_dir(tmp_path) / "C4.json", 10)
    latest = load_run(tmp_path)  # the run of the newest record that has a run id
    assert latest.run_id == "new-run"
    assert [r.claim_id for r in latest.results] == ["C2", "C3"]
    assert [(s.claim_id, s.run_id, s.verdict) for s in latest.stale] == [
        ("C1", "old-run", "replicated"), ("C4", "", "expected-fail at smoke")]
    assert (latest.stale[0].scale, latest.stale[0].overrides) == ("full", ("robustness.bins=20",))
    chosen = load_run(tmp_path, "old-run")
    assert [r.claim_id for r in chosen.results] == ["C1"] and len(chosen.stale) == 3
    assert load_run(tmp_path, "no-such-run").results == ()


def test_records_without_run_ids_are_all_stale(tmp_path: Path) -> None:
    write_record(tmp_path, make_result("C1", run_id=""))
    run = load_run(tmp_path)
    assert run.run_id == "" and run.results == () and [s.claim_id for s in run.stale] == ["C1"]


def test_controls_round_trip_by_run(tmp_path: Path) -> None:
    results = [judge(c, 3, 400, "SPRT accepted alpha", 1.5, run_id="run-a")
               for c in CONTROLS[:2]]
    old = judge(CONTROLS[3], 0, 300, "SPRT accepted alpha", run_id="run-b")
    write_controls(records_dir(tmp_path), [*results, old])
    (records_dir(tmp_path) / "controls" / "summary.json").write_text("[]")  # the former layout
    assert load_controls(tmp_path, "run-a") == results
    assert load_controls(tmp_path, "run-b") == [old]
    assert len(load_controls(tmp_path)) == 3
    assert load_controls(tmp_path / "empty") == []
