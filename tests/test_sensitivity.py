"""The sensitivity table (issue 11, item 7): construction, rendering, and scenario variants."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

from modes.data.representations_file import save_representations
from modes.decisions.on_scenario import ScenarioDecider
from modes.report import sensitivity as report
from modes.report.render import render_html
from modes.scenario import Scenario, ScenarioConfig
from modes.sensitivity import (
    CHOICE_NAMES,
    NEEDS_REFIT,
    NEEDS_RETRAIN,
    NOT_APPLICABLE,
    Cell,
    SensitivityTable,
    choices,
    sensitivity_table,
)
from modes.stats.claim import ClaimResult, Preregistration, evaluate
from scenario_tiny import TINY_OVERRIDES

PREREG = Preregistration(claim_id="CX", hypothesis="h", paper_ref="Fig. 0", test="t",
                         effect_name="e", effect_threshold=0.0, effect_direction="greater",
                         kind="presence")


class StubScenario:
    """Only what the table needs: a config-like dict and ``variant``."""

    def __init__(self, **config: object) -> None:
        self.config = config

    def variant(self, **changes: object) -> StubScenario:
        return StubScenario(**{**self.config, **changes})


def _decide_on_predictive(scenario: StubScenario) -> ClaimResult:
    # replicated unless the "paper" predictive is used, where the effect vanishes
    paper = scenario.config.get("predictive") == "paper"
    return evaluate(PREREG, statistic=1.0, p_value=0.5 if paper else 1e-4,
                    effect_size=0.0 if paper else 2.0, ci=(0.0, 1.0), n=20)


def _density(decide: Callable[[Any], ClaimResult]) -> ScenarioDecider:
    return ScenarioDecider("CX", decide, frozenset({"density"}))


def test_cheap_choices_by_default_all_with_refit() -> None:
    assert [c.name for c in choices(refit=False)] == [
        "predictive=paper", "predictive=occupied", "predictive=authors", "averaging=log"]
    assert [c.name for c in choices(refit=True)] == list(CHOICE_NAMES)


def test_table_marks_the_claims_that_hinge_on_one_choice() -> None:
    table = sensitivity_table(StubScenario(), {
        "C1": _density(_decide_on_predictive),
        "C4": _density(lambda s: _decide_on_predictive(s.variant(predictive="occupied")))},
        refit=False)
    assert table.claims == ("C1", "C4")
    assert table.baseline["C1"].verdict == "replicated"
    assert table.cells["C1"]["predictive=paper"].verdict == "not replicated"
    assert table.cells["C1"]["predictive=paper"].p_value == 0.5
    assert all(c.seconds >= 0 for c in table.cells["C1"].values())
    assert not table.robust("C1") and table.robust("C4")
    md = report.markdown(table)
    lines = md.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("| claim"))
    assert lines[head].startswith("| claim | default | predictive=paper")
    assert "| C1 | replicated (p 0.0001, effect 2) | not replicated (p 0.5, effect 0)" in md
    assert lines[head + 3].endswith("| yes |")
    assert "<table class='sensitivity'>" in report.html_section(table)
    assert SensitivityTable.from_json(table.to_json()) == table


def test_every_choice_has_a_cell_or_a_reason() -> None:
    """A choice that touches none of a claim's inputs is n/a; a refitting one without
    --modes-sensitivity says it needs it; nothing is silently empty."""
    robustness = ScenarioDecider("C7", _decide_on_predictive, frozenset({"robustness"}))
    table = sensitivity_table(StubScenario(noise_space="normalized"), {"C7": robustness},
                              refit=True)
    assert set(table.cells["C7"]) == {"noise_space=pixel"}
    assert table.reasons["C7"] == {c: NOT_APPLICABLE for c in CHOICE_NAMES
                                   if c != "noise_space=pixel"}
    table = sensitivity_table(StubScenario(), {"C7": robustness}, refit=False)
    assert table.cells["C7"] == {} and table.choices == CHOICE_NAMES
    assert table.reason("C7", "noise_space=pixel") == NEEDS_REFIT
    assert table.reason("C7", "svd_centre=True") == NOT_APPLICABLE
    na, refit = f" {NOT_APPLICABLE} |", f" {NEEDS_REFIT} |"
    assert ("| C7 | replicated (p 0.0001, effect 2) |" + na * 4 + na + na + refit + " — |"
            in report.markdown(table))
    assert report.markdown(None) == "" and report.html_section(None) == ""
    assert SensitivityTable.from_json(table.to_json()) == table


def test_a_claim_that_retrains_on_the_densities_runs_cheap_choices_only_with_the_option(
) -> None:
    """C6 and C7 retrain the bin models on bins cut from the densities: a predictive or
    averaging choice is a refitting cell for them (C5 reads no bin model: cheap)."""
    bins = ScenarioDecider("C6", _decide_on_predictive, frozenset({"density"}),
                           retrains=frozenset({"density"}))
    cheap = sensitivity_table(StubScenario(), {"C6": bins, "C5": _density(_decide_on_predictive)},
                              refit=False)
    assert cheap.cells["C6"] == {}
    assert {cheap.reason("C6", c.name) for c in choices(refit=False)} == {NEEDS_RETRAIN}
    assert cheap.reason("C6", "block_update=independent") == NEEDS_REFIT
    assert cheap.reason("C6", "noise_space=pixel") == NOT_APPLICABLE
    assert set(cheap.cells["C5"]) == {c.name for c in choices(refit=False)}
    assert f"| {NEEDS_RETRAIN} |" in report.markdown(cheap)
    assert report.robust_text(cheap, "C6") == "—"
    full = sensitivity_table(StubScenario(), {"C6": bins}, refit=True)
    assert set(full.cells["C6"]) == set(CHOICE_NAMES) - {"noise_space=pixel"}
    assert not full.robust("C6")


def test_rows_of_one_run_merge_into_one_table(tmp_path: Path) -> None:
    """Each claim test writes its own row; the report reads its run's rows as one table, in
    claim order and :data:`CHOICES` column order, and the HTML section goes inside the page."""
    cheap = sensitivity_table(StubScenario(), {"C10": _density(_decide_on_predictive)},
                              refit=False)
    full = sensitivity_table(StubScenario(), {"C2": _density(_decide_on_predictive)},
                             refit=True)
    nan = attrs.evolve(cheap, baseline={"C10": Cell("inconclusive", math.nan, math.nan)})
    report.write_row(tmp_path, "run-1", nan)
    report.write_row(tmp_path, "run-1", full)
    report.write_row(tmp_path, "run-0", attrs.evolve(full, claims=("C3",)))
    table = report.load_table(tmp_path, "run-1")
    assert table is not None and table.claims == ("C2", "C10")
    assert table.choices == CHOICE_NAMES
    assert math.isnan(table.baseline["C10"].p_value)
    assert report.load_table(tmp_path, "run-2") is None
    page = render_html([], [], 0.01, sensitivity=table)
    assert page.index("<h1>") < page.index("id='sensitivity'") < page.index("</body>")
    assert page.replace(report.html_section(table) + "\n", "") == render_html([], [], 0.01)
    with pytest.raises(ValueError, match="one claim"):
        report.write_row(tmp_path, "run-1", table)
    (tmp_path / "sensitivity" / "C4.json").write_text('{"run_id": "run-1"}')
    with pytest.raises(ValueError, match=r"C4\.json"):
        report.load_table(tmp_path, "run-1")


def _computed(caplog: pytest.LogCaptureFixture, kind: str) -> int:
    return sum(r.getMessage().startswith(f"computing {kind} ") for r in caplog.records)


def test_predictive_and_averaging_variants_share_the_default_runs_fit(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A predictive or averaging variant loads the default run's density artifact (no new fit:
    the store computes nothing) and reads another reading of the same chains; a refitting
    choice (SVD centring) fits anew."""
    from modes.store import ArtifactStore

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    reps = save_representations(tmp_path / "reps.npz", labels,
                                [rng.normal(size=(60, 4)) + labels[:, None] for _ in range(2)])
    base = Scenario(ScenarioConfig(overrides=TINY_OVERRIDES, representations=reps.path),
                    ArtifactStore(tmp_path / "store"))
    caplog.set_level("INFO", logger="modes.store")
    a = base.layer_densities("resnet18", nulls=True)[-1]
    fits = _computed(caplog, "layer-density")
    assert fits == 2 and _computed(caplog, "layer-nulls") == 2  # one per layer
    authors = base.variant(predictive="authors")
    averaged = base.variant(averaging="log")
    assert authors.store is base.store and authors.config.predictive == "authors"
    assert authors.measure("checked").predictive == "authors"
    assert base.measure("checked").predictive == "occupied"
    assert averaged.measure("checked").reading.key == "occupied.log"
    b = authors.layer_densities("resnet18", nulls=True)[-1]
    c = averaged.layer_densities("resnet18", nulls=True)[-1]
    paper = base.variant(predictive="paper").layer_densities("resnet18", "paper")[-1]
    assert _computed(caplog, "layer-density") == fits + 2  # the paper measure: its own chains
    assert _computed(caplog, "layer-nulls") == 2
    assert a.log_density.shape == b.log_density.shape == c.log_density.shape
    assert not np.allclose(a.log_density, b.log_density)
    assert not np.allclose(a.relative_entropy, c.relative_entropy)
    assert not np.allclose(a.null_log_density, b.null_log_density)
    # Jensen: the mean of log-densities is at most the log of the mean density, point by point
    assert np.all(c.log_density <= a.log_density + 1e-9)
    assert paper.log_density.shape == a.log_density.shape
    np.testing.assert_array_equal(base.layer_densities("resnet18")[-1].log_density,
                                  a.log_density)
    centred = base.variant(svd_centre=True)
    assert centred._choices() == {"svd_centre": True} and base._choices() == {}
    centred.layer_densities("resnet18")
    assert _computed(caplog, "layer-density") == fits + 4


def test_a_noise_space_variant_is_a_profile_override(tmp_path: Path) -> None:
    """``noise_space`` is a knob of the scale profile (``robustness.noise_space``), not a config
    field: its variant adds the override to the run's own."""
    from modes.store import ArtifactStore

    base = Scenario(ScenarioConfig(overrides=("density.sweeps=100",)),
                    ArtifactStore(tmp_path / "store"))
    pixel = base.variant(noise_space="pixel", svd_centre=True)
    assert pixel.config.overrides == ("density.sweeps=100", "robustness.noise_space=pixel")
    assert pixel.scale.robustness.noise_space == "pixel" and pixel.config.svd_centre
    assert base.scale.robustness.noise_space == "normalized"


def test_every_claim_asks_for_its_row_and_has_a_scenario_decision() -> None:
    """The table has a row for every claim C1-C10: each claim test asks for it
    (``record_sensitivity``) and each has its scenario decision (DECIDERS)."""
    import re

    from modes.decisions.on_scenario import DECIDERS

    claims = Path(__file__).resolve().parents[1] / "claims"
    asked = {m for f in sorted(claims.glob("test_c*.py"))
             for m in re.findall(r'record_sensitivity\("(C\d+s?)"\)', f.read_text())}
    expected = {"C1", "C1s", *(f"C{i}" for i in range(2, 11))}
    assert asked == expected and set(DECIDERS) == expected
    assert all(d.claim_id == c for c, d in DECIDERS.items())


# the tiny scenario with memorization, density bins and CERTIFY cut to seconds
BINS_OVERRIDES = (*TINY_OVERRIDES, "density.null_replicates=1", "density.chains=2",
                  "memorization.trials=28", "memorization.epochs=1",
                  "memorization.min_per_side=1", "robustness.bins=4", "robustness.bin_epochs=1",
                  "robustness.n0=8", "robustness.n=32", "robustness.certify_per_bin=3")


@pytest.mark.slow
def test_c5_re_bins_without_retraining_and_c6_c7_wait_for_the_option(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A predictive variant re-bins C5's examples from the stored memorization scores and the
    re-read densities without training anything; C6 and C7 (bin models) say they need
    --modes-sensitivity. The C5 decision on a scenario is the one on its density-bin table."""
    from modes.decisions.memorization_jump import MemorizationBins, decide_memorization_jump
    from modes.decisions.on_scenario import DECIDERS
    from modes.store import ArtifactStore

    base = Scenario(ScenarioConfig(overrides=BINS_OVERRIDES), ArtifactStore(tmp_path / "store"))
    table = base.density_bins()
    on_scenario = DECIDERS["C5"].decide(base)
    on_table = decide_memorization_jump(MemorizationBins.from_table(table))
    np.testing.assert_equal(  # NaN == NaN here: an inconclusive verdict may have no p
        (on_scenario.verdict, on_scenario.p_value, on_scenario.effect_size),
        (on_table.verdict, on_table.p_value, on_table.effect_size))
    caplog.set_level("INFO", logger="modes.store")
    rows = sensitivity_table(base, {c: DECIDERS[c] for c in ("C5", "C6", "C7")}, refit=False)
    assert not any(r.getMessage().startswith("computing ") for r in caplog.records), [
        r.getMessage() for r in caplog.records]  # nothing trained, fitted or estimated
    cheap = {c.name for c in choices(refit=False)}
    assert set(rows.cells["C5"]) == cheap
    for claim in ("C6", "C7"):
        assert rows.cells[claim] == {}
        assert {rows.reason(claim, c) for c in cheap} == {NEEDS_RETRAIN}
    assert rows.reason("C5", "noise_space=pixel") == NOT_APPLICABLE
    assert rows.reason("C7", "noise_space=pixel") == NEEDS_REFIT
    authors = base.variant(predictive="authors").density_bin_summary()
    assert authors.bins == table.bins
    assert not np.allclose(authors.log_density_mean, table.log_density_mean)
