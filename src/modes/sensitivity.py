"""Sensitivity of the density claims to the analytic choices where the paper's text and the
authors' code differ (issue 11, item 7): one table, claims x choices, each cell the verdict.

A choice is one :class:`ScenarioConfig` change (:meth:`modes.scenario.Scenario.variant`):

* ``predictive``: Eq. 3's per-state predictive
  (:data:`modes.components.density.fitted.PREDICTIVES`): ``paper`` (exact DP predictive,
  densities averaged), ``occupied`` (occupied components, densities averaged) and ``authors``
  (occupied, weights alpha + n_k, **log**-densities averaged: the authors'
  ``latent_space_sampler.py`` and ``calculate_predictive_log_densities.py``).
* ``averaging``: the state average alone (``log``: the authors' mean of log-densities) with the
  measurement's own predictive weights.

  Neither refits: every fit of the density stage is read with every reading
  (:data:`modes.measures.READINGS`) from the same kept states and stored together, so a variant
  loads the default run's artifact and picks its reading.
* ``block_update``: ``independent`` (the authors' sampler) against the default ``metropolis``:
  refits.
* ``svd_centre``: centred SVD (PCA) against the paper's uncentred one: refits.
* ``noise_space``: ``pixel`` against the authors' ``normalized`` (C7, Fig. 3): retrains the
  noise models of the density bins.

The cheap choices run by default; the refitting ones with ``--modes-sensitivity``. Each claim is
decided by its own scenario decision (:data:`modes.decisions.on_scenario.DECIDERS`) on each
variant. Every claim has a cell or a reason for every choice (:data:`CHOICES`), never a silent
gap: a choice that touches none of the inputs a claim reads is not applicable
(:data:`NOT_APPLICABLE`); a refitting choice without ``--modes-sensitivity`` says it needs it
(:data:`NEEDS_REFIT`), and so does a cheap choice for a claim that retrains models on what the
choice changes (C6, C7: the density bins are cut from the densities, so another reading retrains
every bin's models: :data:`NEEDS_RETRAIN`; C5 reads only the bins' memorization and class mix, so
its re-reading stays cheap). Each cell is the claim's own verdict (before the run's Holm
correction), its p-value, effect size and seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from modes.stats.claim import ClaimResult


@attrs.frozen
class Choice:
    """One analytic choice: a column of the table."""

    name: str  # column label, e.g. "predictive=authors"
    # ScenarioConfig fields it sets (noise_space: the override robustness.noise_space)
    changes: tuple[tuple[str, Any], ...]
    refit: bool  # whether it needs new chains or models (behind --modes-sensitivity)
    source: str  # where the choice comes from (paper sentence or authors' file)
    touches: str = "density"  # the claim inputs it changes (ScenarioDecider.reads)


CHOICES: tuple[Choice, ...] = (
    Choice("predictive=paper", (("predictive", "paper"),), False,
           "Eq. 3 as written (exact DP predictive, densities averaged)"),
    Choice("predictive=occupied", (("predictive", "occupied"),), False,
           "occupied components, densities averaged"),
    Choice("predictive=authors", (("predictive", "authors"),), False,
           "latent_space_sampler.py + calculate_predictive_log_densities.py: alpha + n_k "
           "weights, log-densities averaged"),
    Choice("averaging=log", (("averaging", "log"),), False,
           "calculate_predictive_log_densities.py: log-densities averaged over kept states, "
           "with the measurement's own weights"),
    Choice("block_update=independent", (("block_update", "independent"),), True,
           "the authors' sampler (independent block proposals)"),
    Choice("svd_centre=True", (("svd_centre", True),), True,
           "centred SVD (PCA); the paper and the authors' code do not centre"),
    Choice("noise_space=pixel", (("noise_space", "pixel"),), True,
           "noise in [0, 1] pixels (Cohen et al.); the authors add it after Normalize",
           touches="robustness"),
)
CHOICE_NAMES = tuple(c.name for c in CHOICES)


def choices(refit: bool) -> tuple[Choice, ...]:
    """The choices a run computes: the cheap ones, and with ``refit`` every one."""
    return tuple(c for c in CHOICES if refit or not c.refit)


NOT_APPLICABLE = "n/a (changes none of the claim's inputs)"
NEEDS_REFIT = "needs --modes-sensitivity (refits)"
NEEDS_RETRAIN = "needs --modes-sensitivity (retrains bin models)"


@attrs.frozen
class Cell:
    """A claim under one choice: its own verdict (before Holm), p-value, effect size, and the
    seconds the variant's decision took (loading or fitting what it reads included)."""

    verdict: str
    p_value: float
    effect: float
    seconds: float = 0.0

    @classmethod
    def of(cls, result: ClaimResult, seconds: float = 0.0) -> Cell:
        return cls(str(result.verdict.value), float(result.p_value), float(result.effect_size),
                   float(seconds))


@attrs.frozen
class SensitivityTable:
    """``cells[claim][choice]`` for the claims and the choices run for them, and
    ``reasons[claim][choice]`` why a choice was not run for a claim (:data:`NOT_APPLICABLE`,
    :data:`NEEDS_REFIT`, :data:`NEEDS_RETRAIN`)."""

    claims: tuple[str, ...]
    choices: tuple[str, ...]
    baseline: dict[str, Cell]  # the claim's verdict under the default analysis
    cells: dict[str, dict[str, Cell]]
    reasons: dict[str, dict[str, str]] = attrs.field(factory=dict)

    def reason(self, claim: str, choice: str) -> str | None:
        """Why ``choice`` was not run for ``claim`` (None: it was, or the table does not say)."""
        return self.reasons.get(claim, {}).get(choice)

    def robust(self, claim: str) -> bool:
        """Whether every choice run gives the claim's default verdict."""
        return all(c.verdict == self.baseline[claim].verdict
                   for c in self.cells.get(claim, {}).values())

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SensitivityTable:
        return cls(claims=tuple(data["claims"]), choices=tuple(data["choices"]),
                   baseline={k: Cell(**v) for k, v in data["baseline"].items()},
                   cells={k: {c: Cell(**v) for c, v in row.items()}
                          for k, row in data["cells"].items()},
                   reasons={k: {c: str(v) for c, v in row.items()}
                            for k, row in data.get("reasons", {}).items()})

    @classmethod
    def merge(cls, tables: Sequence[SensitivityTable]) -> SensitivityTable:
        """One table of the claims of ``tables`` (one row each, e.g. one per claim test), their
        columns the union of the choices run, in :data:`CHOICES` order."""
        names = {c for t in tables for c in t.choices}
        order = [c for c in CHOICE_NAMES if c in names] + sorted(names - set(CHOICE_NAMES))
        return cls(claims=tuple(c for t in tables for c in t.claims), choices=tuple(order),
                   baseline={k: v for t in tables for k, v in t.baseline.items()},
                   cells={k: v for t in tables for k, v in t.cells.items()},
                   reasons={k: v for t in tables for k, v in t.reasons.items()})


class Decides(Protocol):
    """A claim decided on a scenario (:class:`modes.decisions.on_scenario.ScenarioDecider`)."""

    @property
    def decide(self) -> Callable[[Any], ClaimResult]: ...

    @property
    def reads(self) -> frozenset[str]: ...

    @property
    def retrains(self) -> frozenset[str]: ...


def _timed(decide: Callable[[Any], ClaimResult], scenario: Any) -> Cell:
    started = time.perf_counter()
    result = decide(scenario)
    return Cell.of(result, time.perf_counter() - started)


def not_run_reason(choice: Choice, decider: Decides, refit: bool) -> str | None:
    """Why ``choice`` is not run for the claim ``decider`` decides (None: it is run), in a run
    with (``refit``) or without ``--modes-sensitivity``."""
    if choice.touches not in decider.reads:
        return NOT_APPLICABLE
    if refit:
        return None
    if choice.refit:
        return NEEDS_REFIT
    if choice.touches in decider.retrains:
        return NEEDS_RETRAIN
    return None


def sensitivity_table(scenario: Any, deciders: Mapping[str, Decides], refit: bool,
                      catalogue: Sequence[Choice] = CHOICES) -> SensitivityTable:
    """Decide every claim of ``deciders`` on ``scenario`` and on its variant under each choice
    of ``catalogue`` (:meth:`modes.scenario.Scenario.variant`, made only when some claim runs
    it); ``refit``: the refitting cells run too (``--modes-sensitivity``). Every claim gets a
    cell or a reason (:func:`not_run_reason`) for every choice."""
    baseline = {claim: _timed(d.decide, scenario) for claim, d in deciders.items()}
    cells: dict[str, dict[str, Cell]] = {claim: {} for claim in deciders}
    reasons: dict[str, dict[str, str]] = {claim: {} for claim in deciders}
    for choice in catalogue:
        variant = None
        for claim, d in deciders.items():
            if (why := not_run_reason(choice, d, refit)) is not None:
                reasons[claim][choice.name] = why
                continue
            variant = variant or scenario.variant(**dict(choice.changes))
            cells[claim][choice.name] = _timed(d.decide, variant)
    return SensitivityTable(claims=tuple(deciders), choices=tuple(c.name for c in catalogue),
                            baseline=baseline, cells=cells, reasons=reasons)
