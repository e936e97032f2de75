"""The `modes` console script: component listing, profiles, report re-rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modes.cli import main
from modes.report.records import write_record
from modes.stats.claim import Preregistration, evaluate


def test_components_lists_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["components"]) == 0
    out = capsys.readouterr().out
    for expected in ("backbone", "resnet18", "resnet50", "plain_cnn", "vit", "mixer", "dpgmm",
                     "subsampled", "published", "randomized-smoothing", "synthetic", "cifar100",
                     "mini-imagenet", "svd", "graph"):
        assert expected in out


def test_profiles_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    profiles = json.loads(capsys.readouterr().out)
    assert profiles["full"]["density"]["sweeps"] == 400
    assert profiles["full"]["robustness"]["n"] == 100_000


def test_report_rerenders_from_records(tmp_path: Path) -> None:
    prereg = Preregistration(claim_id="C1", hypothesis="two modes", paper_ref="Fig. 1",
                             test="dip", effect_name="ratio", effect_threshold=3.0,
                             effect_direction="greater")
    write_record(tmp_path, evaluate(prereg, statistic=0.1, p_value=0.001, effect_size=9.0,
                                    ci=(5.0, 12.0), n=100, run_id="run-a"))
    assert main(["report", "--reports-dir", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "C1" in summary and "replicated" in summary and "Run run-a" in summary
    assert main(["report", "--reports-dir", str(tmp_path), "--run-id", "run-b"]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "Run run-b" in summary and "## Stale records" in summary
    assert "<table" in (tmp_path / "index.html").read_text()


def test_report_without_records_is_an_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--reports-dir", str(tmp_path)]) == 2
    assert "no records" in capsys.readouterr().err


def test_profiles_resolve_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "full", "--set", "density.sweeps=100", "--set",
                 "density.burn_in=60", "--set", "train.max_lr=1"]) == 0
    profiles = json.loads(capsys.readouterr().out)
    assert list(profiles) == ["full"]
    full = profiles["full"]
    assert (full["density"]["sweeps"], full["density"]["burn_in"]) == (100, 60)
    assert full["train"]["max_lr"] == 1.0 and full["density"]["thin"] == 4
    assert full["overrides"] == ["density.sweeps=100", "density.burn_in=60", "train.max_lr=1.0"]


@pytest.mark.parametrize(("argv", "message"), [
    (["profiles", "huge"], "unknown scale profile 'huge'; known profiles: ['full'"),
    (["profiles", "--set", "density.sweps=1"], "unknown key 'density.sweps'"),
    (["profiles", "--set", "density.sweeps=0"], "density.sweeps must be >= 1, got 0"),
])
def test_profiles_name_a_bad_profile_or_override(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
