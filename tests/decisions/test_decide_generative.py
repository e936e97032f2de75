"""C9's decision: recovery above 0.5, the Fig. 4 orderings, classes as clusters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rates import assert_power, assert_size

from modes.decisions import planted
from modes.decisions.calibration import replication_rate
from modes.decisions.generative import PREREG, HeldOutPredictions, decide_generative
from modes.stats.claim import INCONCLUSIVE, NOT_REPLICATED, REPLICATED


def decide(inp: HeldOutPredictions) -> Any:
    return decide_generative(inp, with_f_scores=False)


def test_a_planted_classifier_replicates() -> None:
    inp = planted.generative_predictions(np.random.default_rng(0), 100, 333)
    result = decide_generative(inp)
    assert result.verdict == REPLICATED and result.note == ""
    assert list(result.details["conditions"]) == [
        "random-subset accuracy above 0.5", "gain 2->3 above gain 1->2",
        "gain 2->3 above gain 3->4", "unmemorized above memorized at the last stage"]
    assert result.effect_size == pytest.approx(result.details["last_stage_accuracy"]["random"])
    assert set(result.details["f_scores"]) == {"memorized", "unmemorized", "random"}
    assert decide(inp).details["f_scores"] == {}


def test_recovery_far_above_chance_but_below_half_fails() -> None:
    """The former criterion (accuracy / chance >= 2) passes at 40x chance; recovery does not."""
    inp = planted.generative_predictions(np.random.default_rng(1), 100, 333,
                                         stage_accuracy=(0.25, 0.28, 0.35, 0.4))
    result = decide(inp)
    assert result.effect_size * 100 > 2.0
    assert result.verdict == NOT_REPLICATED
    assert "random-subset accuracy above 0.5 not shown" in result.note


def test_largest_gain_at_the_last_step_contradicts_fig_4() -> None:
    inp = planted.generative_predictions(np.random.default_rng(2), 100, 333,
                                         stage_accuracy=(0.3, 0.35, 0.45, 0.85))
    result = decide(inp)
    assert result.verdict == NOT_REPLICATED and "gain 2->3 above gain 3->4 not shown" in result.note


def test_inconclusive_and_invalid_inputs() -> None:
    inp = planted.generative_predictions(np.random.default_rng(3))
    two = HeldOutPredictions(inp.predictions[:2], inp.truth, inp.subset_sizes, ("a", "b"), 20)
    assert decide(two).verdict == INCONCLUSIVE
    one_class = HeldOutPredictions(inp.predictions, np.zeros_like(inp.truth), inp.subset_sizes,
                                   inp.stages, 20)
    assert "2 classes in every subset" in decide(one_class).note
    with pytest.raises(ValueError, match="subset_sizes"):
        HeldOutPredictions(inp.predictions, inp.truth, [1, 2, 3], inp.stages, 20)
    with pytest.raises(ValueError, match="stage names"):
        HeldOutPredictions(inp.predictions, inp.truth, inp.subset_sizes, ("a",), 20)


NULLS: dict[str, dict[str, Any]] = {
    "recovery at 0.5": {"stage_accuracy": (0.25, 0.3, 0.45, 0.5)},
    "memorized as unmemorized": {"memorized_offset": 0.0, "unmemorized_offset": 0.0},
    "gain 2->3 equal to gain 3->4": {"stage_accuracy": (0.3, 0.4, 0.6, 0.8)},
}


@pytest.mark.parametrize("null", list(NULLS))
def test_each_part_at_its_null_keeps_the_size(null: str) -> None:
    """Smoke size: 20 classes, 100 examples per subset, memorized examples concentrated in few
    classes, class effects on accuracy; the other parts present."""
    rate = replication_rate(decide, lambda rng: planted.generative_predictions(
        rng, 20, 100, **NULLS[null]), 2000)
    assert_size(rate, PREREG.alpha)


@pytest.mark.parametrize(("n_classes", "per_subset", "offset"), [(20, 100, -0.25),
                                                                 (100, 333, -0.15)])
def test_power(n_classes: int, per_subset: int, offset: float) -> None:
    rate = replication_rate(decide, lambda rng: planted.generative_predictions(
        rng, n_classes, per_subset, stage_accuracy=(0.35, 0.4, 0.8, 0.87),
        memorized_offset=offset), 200, seed=1)
    assert_power(rate)
