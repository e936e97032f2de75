"""Readings of one fit (issue 11, item 7): every predictive variant and state averaging from the
same kept states, the same numbers as a fit read through that variant alone."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from modes.components.density import DPGMM
from modes.components.density.fitted import (
    AVERAGINGS,
    PREDICTIVES,
    FittedDPGMM,
    default_averaging,
)
from modes.measures import (
    CHECKED,
    PAPER,
    READINGS,
    DensityMeasure,
    Reading,
    SamplerSettings,
    measure_layer,
    measure_layer_readings,
    measure_nulls,
    measure_nulls_readings,
    reading_arrays,
    readings_to_arrays,
)

torch.set_num_threads(1)
SETTINGS = SamplerSettings(sweeps=8, burn_in=4, thin=2, block_size=4, init_components=3,
                           chains=2, dtype="float64", folds=2, kl_samples=64, null_replicates=2)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(3), 16)
    return rng.normal(size=(48, 3)) + 2.0 * labels[:, None], labels


def test_readings_cover_every_predictive_and_averaging() -> None:
    assert {(r.predictive, r.averaging) for r in READINGS} == {
        (p, a) for p in PREDICTIVES for a in AVERAGINGS}
    assert CHECKED.reading == Reading("occupied", "density")
    assert attrs.evolve(CHECKED, predictive="authors").reading.key == "authors.log"
    assert attrs.evolve(PAPER, averaging="log").reading.key == "paper.log"
    with pytest.raises(ValueError, match="unknown predictive"):
        default_averaging("mean-field")
    with pytest.raises(ValueError):
        Reading("occupied", "median")


@pytest.mark.parametrize("measure", [CHECKED, PAPER], ids=["checked", "paper"])
def test_a_reading_of_the_shared_fit_is_that_variants_own_fit(measure: DensityMeasure) -> None:
    """Read from the one fit, each reading equals a separate fit (same seed, same chains) read
    through that variant alone: the sensitivity table's cheap columns are what a refit gives."""
    x, labels = _data()
    shared = measure_layer_readings(x, labels, measure, SETTINGS, seed=5)
    assert set(shared) == {r.key for r in READINGS}
    for reading in (Reading("authors", "log"), Reading("occupied", "log")):
        alone = measure_layer(x, labels, attrs.evolve(measure, predictive=reading.predictive,
                                                      averaging=reading.averaging),
                              SETTINGS, seed=5)
        np.testing.assert_allclose(shared[reading.key].log_density, alone.log_density)
        np.testing.assert_allclose(shared[reading.key].relative_entropy,
                                   alone.relative_entropy)
    nulls = measure_nulls_readings(x, labels, measure, SETTINGS, seed=5)
    np.testing.assert_allclose(nulls[measure.reading.key].log_density,
                               measure_nulls(x, labels, measure, SETTINGS, seed=5).log_density)
    arrays = readings_to_arrays(shared)
    back = reading_arrays(arrays, Reading("paper", "log"))
    np.testing.assert_array_equal(back["log_density"], shared["paper.log"].log_density)
    with pytest.raises(KeyError, match=r"no reading 'paper\.log'"):
        reading_arrays({"occupied.density/log_density": np.zeros(1)}, Reading("paper", "log"))


@pytest.fixture(scope="module")
def fitted() -> FittedDPGMM:
    x, labels = _data()
    return DPGMM(sweeps=6, burn_in=2, thin=1, chains=1, seed=0).fit(x, labels, warn=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=12), st.sampled_from(PREDICTIVES))
def test_log_averaging_is_below_density_averaging(fitted: FittedDPGMM, values: list[float],
                                                  predictive: str) -> None:
    """Jensen: the mean of per-state log-densities is at most the log of their mean density,
    equal when the states agree; the averaging choice is independent of the weights."""
    lp = torch.tensor(values, dtype=torch.float64).reshape(-1, 1)
    log = fitted.with_predictive(predictive, "log").average_states(lp)
    dens = fitted.with_predictive(predictive, "density").average_states(lp)
    assert float(log) <= float(dens) + 1e-9
    same = torch.full_like(lp, values[0])
    assert float(fitted.with_predictive(predictive, "log").average_states(same)) == pytest.approx(
        float(fitted.with_predictive(predictive, "density").average_states(same)))
    own = fitted.with_predictive(predictive)
    assert own.state_averaging == default_averaging(predictive)


@pytest.mark.parametrize("predictive", PREDICTIVES)
def test_eq4_by_averaging_is_each_averagings_own(fitted: FittedDPGMM, predictive: str) -> None:
    """One set of draws serves both averagings: the same numbers as one call per averaging."""
    both = fitted.with_predictive(predictive).relative_entropy_by_averaging(
        group=1, num_samples=300, seed=4)
    for averaging in AVERAGINGS:
        alone = fitted.with_predictive(predictive, averaging).relative_entropy(
            group=1, num_samples=300, seed=4)
        assert both[averaging] == pytest.approx(alone, rel=1e-12, abs=1e-12)
