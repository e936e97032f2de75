"""Sensitivity of the density claims to the analytic choices where the paper's text and the
authors' code differ (issue 11, item 7): one table, claims x choices, each cell the verdict.

A choice is one :class:`ScenarioConfig` change (:meth:`modes.scenario.Scenario.variant`):

* ``predictive``: Eq. 3's per-state predictive and its average over kept states
  (:data:`modes.components.density.fitted.PREDICTIVES`): ``paper`` (exact DP predictive,
  densities averaged), ``occupied`` (occupied components, densities averaged) and ``authors``
  (occupied, weights alpha + n_k, **log**-densities averaged: the authors'
  ``calculate_predictive_log_densities.py``). State averaging is not a separate switch here:
  ``occupied`` vs ``authors`` is the averaging choice (plus the weights). The variant is fitted
  with the same seeds and settings, so its chains are the default run's, but the store does not
  keep chains: today the variant re-runs the sampler (cost of one more fit per layer).
* ``block_update``: ``independent`` (the authors' sampler) against the default ``metropolis``:
  refits.
* ``svd_centre``: centred SVD (PCA) against the paper's uncentred one: refits.
* ``noise_space``: ``pixel`` against the authors' ``normalized`` (Fig. 3 claims only): refits.

The cheap choices run by default; the refitting ones with ``--sensitivity``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from modes.stats.claim import ClaimResult


@attrs.frozen
class Choice:
    """One analytic choice: a column of the table."""

    name: str  # column label, e.g. "predictive=authors"
    # ScenarioConfig fields it sets (noise_space: the override robustness.noise_space)
    changes: tuple[tuple[str, Any], ...]
    refit: bool  # whether it needs new chains (behind --sensitivity)
    source: str  # where the choice comes from (paper sentence or authors' file)


CHOICES: tuple[Choice, ...] = (
    Choice("predictive=paper", (("predictive", "paper"),), False,
           "Eq. 3 as written (exact DP predictive, densities averaged)"),
    Choice("predictive=occupied", (("predictive", "occupied"),), False,
           "occupied components, densities averaged"),
    Choice("predictive=authors", (("predictive", "authors"),), False,
           "latent_space_sampler.py + calculate_predictive_log_densities.py: alpha + n_k "
           "weights, log-densities averaged"),
    Choice("block_update=independent", (("block_update", "independent"),), True,
           "the authors' sampler (independent block proposals)"),
    Choice("svd_centre=True", (("svd_centre", True),), True,
           "centred SVD (PCA); the paper and the authors' code do not centre"),
    Choice("noise_space=pixel", (("noise_space", "pixel"),), True,
           "noise in [0, 1] pixels (Cohen et al.); the authors add it after Normalize"),
)
CHOICE_NAMES = tuple(c.name for c in CHOICES)


def choices(refit: bool) -> tuple[Choice, ...]:
    """The choices a run computes: the cheap ones, and with ``refit`` every one."""
    return tuple(c for c in CHOICES if refit or not c.refit)


@attrs.frozen
class Cell:
    """A claim under one choice."""

    verdict: str
    p_value: float
    effect: float

    @classmethod
    def of(cls, result: ClaimResult) -> Cell:
        return cls(str(result.verdict.value), float(result.p_value), float(result.effect_size))


@attrs.frozen
class SensitivityTable:
    """``cells[claim][choice]`` for the claims and choices run (missing: not applicable)."""

    claims: tuple[str, ...]
    choices: tuple[str, ...]
    baseline: dict[str, Cell]  # the claim's verdict under the default analysis
    cells: dict[str, dict[str, Cell]]

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
                          for k, row in data["cells"].items()})

    def _cell_text(self, cell: Cell | None) -> str:
        if cell is None:
            return "-"
        return f"{cell.verdict} (p {cell.p_value:.2g}, effect {cell.effect:.3g})"

    def to_markdown(self) -> str:
        head = ["claim", "default", *self.choices, "robust"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for claim in self.claims:
            row = [claim, self._cell_text(self.baseline.get(claim)),
                   *(self._cell_text(self.cells.get(claim, {}).get(c)) for c in self.choices),
                   "yes" if self.robust(claim) else "no"]
            lines.append("| " + " | ".join(row) + " |")
        return "\n".join(lines)

    def to_html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>"
                       for h in ["claim", "default", *self.choices, "robust"])
        rows = []
        for claim in self.claims:
            cells = [claim, self._cell_text(self.baseline.get(claim)),
                     *(self._cell_text(self.cells.get(claim, {}).get(c)) for c in self.choices),
                     "yes" if self.robust(claim) else "no"]
            rows.append("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>")
        return (f"<table class='sensitivity'><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")


Decider = Callable[[Any], ClaimResult]  # a claim decided on one scenario (checked measure)


def sensitivity_table(scenario: Any, deciders: Mapping[str, Decider],
                      run: Sequence[Choice]) -> SensitivityTable:
    """Decide every claim of ``deciders`` on ``scenario`` and on each of its variants ``run``.

    A choice that does not apply to a claim's inputs (e.g. noise space for a density claim) is
    still run; a decider may raise ``NotImplementedError`` to leave its cell empty.
    """
    baseline = {claim: Cell.of(decide(scenario)) for claim, decide in deciders.items()}
    cells: dict[str, dict[str, Cell]] = {claim: {} for claim in deciders}
    for choice in run:
        variant = scenario.variant(**dict(choice.changes))
        for claim, decide in deciders.items():
            try:
                cells[claim][choice.name] = Cell.of(decide(variant))
            except NotImplementedError:
                continue
    return SensitivityTable(claims=tuple(deciders), choices=tuple(c.name for c in run),
                            baseline=baseline, cells=cells)
