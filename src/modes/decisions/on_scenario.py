"""The density-based claims decided on a scenario: what each claim reads, and its decision.

Each function here takes a :class:`modes.scenario.Scenario` (anything with its
``layer_densities``, ``dataset``, ``config`` and ``density_bins``) and returns the claim's final
result (:func:`modes.decisions.checks.final`: the checked measurement's gated verdict, both
measurements' numbers in its details). The claim tests call them, and so does the sensitivity
table (:mod:`modes.sensitivity`), on the scenario's variants: one decision per claim, whatever
analytic choice it is read under.

:data:`DECIDERS` names them by claim with what they read (``"density"``: class log-densities of
fitted chains; ``"robustness"``: the density-bin models), so that a choice touching other inputs
leaves the claim's cell empty instead of re-deciding an unchanged input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import attrs

from modes.decisions.checks import both_measures, final
from modes.decisions.complexity import ComplexityInput, decide_complexity
from modes.decisions.no_modes import C2, C3, AbsenceInput, decide_no_modes
from modes.decisions.robustness_drop import RobustnessBins, decide_robustness_drop
from modes.decisions.transformers import TransformerInput, decide_transformers
from modes.decisions.two_modes import LayerValues, decide_low_spread, decide_two_modes
from modes.stats.claim import ClaimResult

LayersOf = Callable[[str, bool], Sequence[Any]]


def _labels(scenario: Any) -> Any:
    return scenario.dataset.train_labels.numpy()


def _deep(scenario: Any) -> LayersOf:
    name = scenario.config.backbone

    def deep(measure: str, nulls: bool) -> Sequence[Any]:
        layers = scenario.layer_densities(name, measure, nulls)
        return layers[len(layers) // 2:]

    return deep


def _values(scenario: Any) -> Callable[[str, Sequence[Any], int | None], LayerValues]:
    labels = _labels(scenario)

    def values(measure: str, layers: Sequence[Any], r: int | None) -> LayerValues:
        return LayerValues([ld.layer for ld in layers], [ld.log_density_of(r) for ld in layers],
                           labels)

    return values


def _absence(scenario: Any) -> Callable[[str, Sequence[Any], int | None], AbsenceInput]:
    values, seed = _values(scenario), scenario.config.seed

    def inputs(measure: str, layers: Sequence[Any], r: int | None) -> AbsenceInput:
        return AbsenceInput(values(measure, layers, r), seed)

    return inputs


def two_modes(scenario: Any) -> ClaimResult:
    """C1: two distinct modes of class-mean log-density in the deep stages (Fig. 1)."""
    return final(both_measures(_deep(scenario), _values(scenario), decide_two_modes))


def low_spread(scenario: Any) -> ClaimResult:
    """C1s: the high-density mode's order of magnitude lower spread (Fig. 1)."""
    return final(both_measures(_deep(scenario), _values(scenario), decide_low_spread))


def no_modes_shallow(scenario: Any) -> ClaimResult:
    """C2: no modes in the first half of the backbone's stages (Fig. A.7)."""
    name = scenario.config.backbone

    def shallow(measure: str, nulls: bool) -> Sequence[Any]:
        layers = scenario.layer_densities(name, measure, nulls)
        return layers[: len(layers) // 2]

    return final(both_measures(shallow, _absence(scenario), partial(decide_no_modes, prereg=C2)))


def plain_cnn_uniform(scenario: Any) -> ClaimResult:
    """C3: the plain CNN control fits classes uniformly in every layer (Fig. A.8)."""
    return final(both_measures(partial(scenario.layer_densities, scenario.config.control_backbone),
                               _absence(scenario), partial(decide_no_modes, prereg=C3)))


def complexity_inputs(scenario: Any, layer: Any, r: int | None) -> ComplexityInput:
    """C4's input from one layer's densities (real classes, or matched null ``r``)."""
    return ComplexityInput(layer.log_density_of(r), _labels(scenario),
                           layer.relative_entropy_of(r), layer.mean_intra_distance_of(r),
                           layer.total_correlation_of(r))


def not_compact_but_complex(scenario: Any) -> ClaimResult:
    """C4: high-density classes not more compact, yet more non-Gaussian (Fig. 2)."""
    name = scenario.config.backbone

    def last(measure: str, nulls: bool) -> Sequence[Any]:
        return scenario.layer_densities(name, measure, nulls)[-1:]

    def inputs(measure: str, layers: Sequence[Any], r: int | None) -> ComplexityInput:
        return complexity_inputs(scenario, layers[0], r)

    return final(both_measures(last, inputs, decide_complexity))


def transformers(scenario: Any) -> ClaimResult:
    """C10: no modes in the transformers' initial blocks, two in some deeper one (A.9, A.10)."""
    names = list(scenario.config.transformers)
    counts = [len(scenario.layer_densities(name)) for name in names]
    labels = _labels(scenario)

    def all_layers(measure: str, nulls: bool) -> Sequence[Any]:
        return [ld for name in names for ld in scenario.layer_densities(name, measure, nulls)]

    def inputs(measure: str, layers: Sequence[Any], r: int | None) -> TransformerInput:
        out, start = {}, 0
        for name, k in zip(names, counts, strict=True):
            part = layers[start:start + k]
            out[name] = LayerValues([ld.layer for ld in part],
                                    [ld.log_density_of(r) for ld in part], labels)
            start += k
        return TransformerInput(out, scenario.config.seed)

    return final(both_measures(all_layers, inputs, decide_transformers))


def robustness_drop(scenario: Any) -> ClaimResult:
    """C7: certified radii and smoothed F-scores drop at the transition (Fig. 3)."""
    table = scenario.density_bins()
    result = decide_robustness_drop(RobustnessBins.from_table(table))
    return attrs.evolve(result, details={
        **result.details, "radius_units": "[0, 1] pixels", "noise_space": table.noise_space,
        "noise_pixel_sd": table.noise_pixel_sd.tolist()})


@attrs.frozen
class ScenarioDecider:
    """A claim decided on a scenario, and the inputs it reads (``"density"``,
    ``"robustness"``): a choice that touches none of them does not apply to the claim."""

    claim_id: str
    decide: Callable[[Any], ClaimResult]
    reads: frozenset[str]


DENSITY = frozenset({"density"})
DECIDERS: dict[str, ScenarioDecider] = {d.claim_id: d for d in (
    ScenarioDecider("C1", two_modes, DENSITY),
    ScenarioDecider("C1s", low_spread, DENSITY),
    ScenarioDecider("C2", no_modes_shallow, DENSITY),
    ScenarioDecider("C3", plain_cnn_uniform, DENSITY),
    ScenarioDecider("C4", not_compact_but_complex, DENSITY),
    ScenarioDecider("C7", robustness_drop, frozenset({"robustness"})),
    ScenarioDecider("C10", transformers, DENSITY),
)}
