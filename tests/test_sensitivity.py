"""The sensitivity table (issue 11, item 7): construction, rendering, and scenario variants."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modes.data.representations_file import save_representations
from modes.scenario import Scenario, ScenarioConfig
from modes.sensitivity import (
    CHOICE_NAMES,
    Cell,
    SensitivityTable,
    choices,
    sensitivity_table,
)
from modes.stats.claim import Preregistration, evaluate
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


def _decide_on_predictive(scenario: StubScenario) -> object:
    # replicated unless the "paper" predictive is used, where the effect vanishes
    paper = scenario.config.get("predictive") == "paper"
    return evaluate(PREREG, statistic=1.0, p_value=0.5 if paper else 1e-4,
                    effect_size=0.0 if paper else 2.0, ci=(0.0, 1.0), n=20)


def _noise_only(scenario: StubScenario) -> object:
    if "noise_space" not in scenario.config:
        raise NotImplementedError
    return _decide_on_predictive(scenario)


def _raise() -> object:
    raise NotImplementedError


def test_cheap_choices_by_default_all_with_refit() -> None:
    assert [c.name for c in choices(refit=False)] == [
        "predictive=paper", "predictive=occupied", "predictive=authors"]
    assert [c.name for c in choices(refit=True)] == list(CHOICE_NAMES)


def test_table_marks_the_claims_that_hinge_on_one_choice() -> None:
    table = sensitivity_table(StubScenario(), {"C1": _decide_on_predictive,
                                               "C4": lambda s: _decide_on_predictive(
                                                   s.variant(predictive="occupied"))},
                              choices(refit=False))
    assert table.claims == ("C1", "C4")
    assert table.baseline["C1"].verdict == "replicated"
    assert table.cells["C1"]["predictive=paper"].verdict == "not replicated"
    assert table.cells["C1"]["predictive=paper"].p_value == 0.5
    assert not table.robust("C1") and table.robust("C4")
    md = table.to_markdown()
    assert md.splitlines()[0].startswith("| claim | default | predictive=paper")
    assert "| C1 | replicated (p 0.0001, effect 2) | not replicated (p 0.5, effect 0)" in md
    assert md.splitlines()[-1].endswith("| yes |")
    assert "<table class='sensitivity'>" in table.to_html()
    assert SensitivityTable.from_json(table.to_json()) == table


def test_a_choice_that_does_not_apply_leaves_its_cell_empty() -> None:
    table = sensitivity_table(StubScenario(noise_space="normalized"),
                              {"C7": _noise_only}, choices(refit=True))
    assert set(table.cells["C7"]) == set(CHOICE_NAMES)
    table = sensitivity_table(StubScenario(noise_space="normalized"),
                              {"C7": lambda s: _noise_only(s) if s.config.get(
                                  "predictive") is None else _raise()}, choices(refit=False))
    assert table.cells["C7"] == {}
    assert "| C7 |" in SensitivityTable(("C7",), ("x",), {"C7": Cell("inconclusive", 1, 0)},
                                        {"C7": {}}).to_markdown()


def test_scenario_reads_the_same_chains_through_another_predictive(tmp_path: Path) -> None:
    """A variant scenario shares the store, caches its own densities, and the ``authors``
    predictive changes the log-densities of the checked measure."""
    from modes.store import ArtifactStore

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    reps = save_representations(tmp_path / "reps.npz", labels,
                                [rng.normal(size=(60, 4)) + labels[:, None] for _ in range(2)])
    base = Scenario(ScenarioConfig(overrides=TINY_OVERRIDES, representations=reps.path),
                    ArtifactStore(tmp_path / "store"))
    authors = base.variant(predictive="authors")
    assert authors.store is base.store and authors.config.predictive == "authors"
    assert authors.measure("checked").predictive == "authors"
    assert base.measure("checked").predictive == "occupied"
    a = base.layer_densities("resnet18")[-1].log_density
    b = authors.layer_densities("resnet18")[-1].log_density
    assert a.shape == b.shape and not np.allclose(a, b)
    np.testing.assert_array_equal(base.layer_densities("resnet18")[-1].log_density, a)
    centred = base.variant(svd_centre=True)
    assert centred._choices() == {"svd_centre": True} and base._choices() == {}


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
