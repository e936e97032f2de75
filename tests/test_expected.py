"""Expected smoke verdicts are data, checked and turned into reasons from the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from modes.expected import expected_verdict, load, reason, run_key
from modes.stats.claim import NOT_REPLICATED, REPLICATED, ClaimResult, Preregistration


def test_shipped_file_loads_and_keys_runs() -> None:
    table = load()
    assert run_key("smoke", "synthetic", "resnet18", 0) in table
    assert expected_verdict("full/cifar100/resnet50/0", "C1", table) is REPLICATED


def test_a_run_with_overrides_is_another_run() -> None:
    key = run_key("smoke", "synthetic", "resnet18", 0, ("density.sweeps=100",))
    assert key == "smoke [density.sweeps=100]/synthetic/resnet18/0"
    assert key not in load()
    assert run_key("smoke", "synthetic", "resnet18", 0, ()) == "smoke/synthetic/resnet18/0"


def test_verdicts_are_read_as_the_enum(tmp_path: Path) -> None:
    path = tmp_path / "smoke.json"
    path.write_text('{"_about": "x", "smoke/synthetic/resnet18/0": {"C1": "not replicated"}}')
    table = load(path)
    assert table == {"smoke/synthetic/resnet18/0": {"C1": NOT_REPLICATED}}
    assert expected_verdict("smoke/synthetic/resnet18/0", "C1", table) is NOT_REPLICATED
    assert expected_verdict("smoke/synthetic/resnet18/0", "C2", table) is REPLICATED  # no entry


def test_unknown_verdicts_are_named(tmp_path: Path) -> None:
    path = tmp_path / "smoke.json"
    path.write_text('{"smoke/synthetic/resnet18/0": {"C1": "sort of"}}')
    with pytest.raises(ValueError, match="unknown verdicts \\{'C1': 'sort of'\\}"):
        load(path)


def test_reason_is_generated_from_the_record() -> None:
    prereg = Preregistration(claim_id="C1", hypothesis="h", paper_ref="r", test="t",
                             effect_name="spread ratio", effect_threshold=3.0,
                             effect_direction="greater")
    result = ClaimResult(prereg=prereg, statistic=0.1, p_value=0.2, effect_size=1.25, ci_low=1.0,
                         ci_high=1.5, n=20, expected=NOT_REPLICATED, note="no gap")
    assert result.as_expected
    text = reason(result, "smoke/synthetic/resnet18/0")
    assert text.startswith("expected 'not replicated' in run smoke/synthetic/resnet18/0")
    assert "p 0.2, spread ratio 1.25 (threshold greater 3)" in text and text.endswith("no gap")
