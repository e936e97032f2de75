"""The claims decided on a scenario: what each claim reads, and its decision.

Each function here takes a :class:`modes.scenario.Scenario` (anything with its
``layer_densities``, ``dataset``, ``config``, ``density_bins``, ``density_bin_summary``,
``subset_divergences`` and ``generative_classification``) and returns the claim's final result
(the density claims: :func:`modes.decisions.checks.final`, the checked measurement's gated
verdict, both measurements' numbers in its details; C5-C7: the decision on the density-bin
table; C8, C9: on their own fits of the Fig. 4 and A.11 subsets). The claim tests call them,
and so does the sensitivity table (:mod:`modes.sensitivity`), on the scenario's variants: one
decision per claim, whatever analytic choice it is read under.

:data:`DECIDERS` names them by claim with what they read (``"density"``: class log-densities of
fitted chains, directly or through the density bins cut from them; ``"robustness"``: the
smoothing noise of the bins' noise models) and what a change of those inputs retrains, so that
a choice touching other inputs is not run for the claim (its cell says so) instead of
re-deciding an unchanged input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import attrs

from modes.decisions.checks import both_measures, final
from modes.decisions.class_fitting import SubsetDivergences, decide_class_fitting
from modes.decisions.complexity import ComplexityInput, decide_complexity
from modes.decisions.fscore_tracking import TrackingBins, decide_fscore_tracking
from modes.decisions.generative import HeldOutPredictions, decide_generative
from modes.decisions.memorization_jump import MemorizationBins, decide_memorization_jump
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
        return scenario.layer_densities(name, measure, nulls, "deep")

    return deep


def _values(scenario: Any) -> Callable[[str, Sequence[Any], int | None], LayerValues]:
    labels = _labels(scenario)

    def values(measure: str, layers: Sequence[Any], r: int | None) -> LayerValues:
        return LayerValues([ld.layer for ld in layers], [ld.log_density_of(r) for ld in layers],
                           labels)

    return values


def _absence(scenario: Any) -> Callable[[str, Sequence[Any], int | None], AbsenceInput]:
    values, seed = _values(scenario), scenario.seed("absence-test")

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
        return scenario.layer_densities(name, measure, nulls, "shallow")

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
        return scenario.layer_densities(name, measure, nulls, "last")

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
        return TransformerInput(out, scenario.seed("transformer-test"))

    return final(both_measures(all_layers, inputs, decide_transformers))


def memorization_jump(scenario: Any) -> ClaimResult:
    """C5: memorization falls with density, then jumps at the transition (Fig. 3). It reads
    the bins' density, memorization and class mix only, not the bin models
    (:meth:`modes.scenario.Scenario.density_bin_summary`): another reading of the densities
    re-bins the examples without retraining."""
    return decide_memorization_jump(MemorizationBins.from_table(scenario.density_bin_summary()))


def fscore_tracking(scenario: Any) -> ClaimResult:
    """C6: the held-out F-scores of the models trained without each bin track its memorization
    (Fig. 3); another reading of the densities re-bins the examples and retrains those models."""
    return decide_fscore_tracking(TrackingBins.from_table(scenario.density_bins(),
                                                          seed=scenario.seed("fscore-tracking-test")))


def robustness_drop(scenario: Any) -> ClaimResult:
    """C7: certified radii and smoothed F-scores drop at the transition (Fig. 3)."""
    table = scenario.density_bins()
    result = decide_robustness_drop(RobustnessBins.from_table(table))
    return attrs.evolve(result, details={
        **result.details, "radius_units": "[0, 1] pixels", "noise_space": table.noise_space,
        "noise_pixel_sd": table.noise_pixel_sd.tolist()})


# C8's subset names -> the authors' file names (Scenario.fitting_subsets)
FILE_SUBSETS = {"memorized": "most", "typical": "least", "random": "random"}


def subset_divergences(scenario: Any) -> SubsetDivergences:
    """C8's input: the between-class KL matrices of each Fig. 4 subset, each subset with its
    own classes (not paired across subsets), under the scenario's reading."""
    name = scenario.config.backbone
    out = scenario.subset_divergences(name)
    return SubsetDivergences({s: out.kl[f] for s, f in FILE_SUBSETS.items()},
                             list(scenario.representations(name)))


def where_classes_fit(scenario: Any) -> ClaimResult:
    """C8: classes are fit between stages 2 and 3, memorized examples a little less distinct
    (Fig. 4)."""
    return decide_class_fitting(subset_divergences(scenario))


def heldout_predictions(scenario: Any) -> HeldOutPredictions:
    """C9's input: Eq. A.7's predictions of the held-out subsets at every stage, under the
    scenario's reading."""
    name = scenario.config.backbone
    out = scenario.generative_classification(name)
    return HeldOutPredictions(out.predictions, out.truth, out.subset_sizes,
                              list(scenario.representations(name)),
                              scenario.dataset.num_classes)


def generative_classifier(scenario: Any) -> ClaimResult:
    """C9: the generative classifier recovers held-out classes, ordered as Fig. 4 predicts
    (Fig. A.11)."""
    return decide_generative(heldout_predictions(scenario))


@attrs.frozen
class ScenarioDecider:
    """A claim decided on a scenario, and the inputs it reads (``"density"``: the class
    log-densities, read under the scenario's reading; ``"robustness"``: the smoothing noise):
    a choice that touches none of them does not apply to the claim. ``retrains``: the inputs
    whose change retrains models before the claim can be decided (C6, C7: the density bins are
    cut from the densities, so another reading retrains every bin's models), which makes even
    a choice that re-reads the chains a refitting cell (:mod:`modes.sensitivity`)."""

    claim_id: str
    decide: Callable[[Any], ClaimResult]
    reads: frozenset[str]
    retrains: frozenset[str] = frozenset()


DENSITY = frozenset({"density"})
DECIDERS: dict[str, ScenarioDecider] = {d.claim_id: d for d in (
    ScenarioDecider("C1", two_modes, DENSITY),
    ScenarioDecider("C1s", low_spread, DENSITY),
    ScenarioDecider("C2", no_modes_shallow, DENSITY),
    ScenarioDecider("C3", plain_cnn_uniform, DENSITY),
    ScenarioDecider("C4", not_compact_but_complex, DENSITY),
    # the bins' memorization and class mix only: no bin model, so a re-reading is cheap
    ScenarioDecider("C5", memorization_jump, DENSITY),
    ScenarioDecider("C6", fscore_tracking, DENSITY, retrains=DENSITY),
    ScenarioDecider("C7", robustness_drop, frozenset({"density", "robustness"}),
                    retrains=DENSITY),
    # their own fits of the Fig. 4 / A.11 subsets, every reading stored at fit time: cheap
    ScenarioDecider("C8", where_classes_fit, DENSITY),
    ScenarioDecider("C9", generative_classifier, DENSITY),
    ScenarioDecider("C10", transformers, DENSITY),
)}
