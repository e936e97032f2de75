"""Controls of the statistical primitives (dip test, BIC rule, spread ratio, piecewise fits, rank
tests) on planted fixtures with known answers, at alpha 0.05; run by ``tests/stats``.

The claims' own controls, which run each claim's decision function at its own alpha and go to the
report, are :mod:`modes.decisions.controls`.

A :class:`Control` is one procedure on one family of fixtures; one *trial* draws a fresh fixture
and says whether the procedure rejected (``null`` and ``planted`` controls) or whether its CI
covered the truth (``coverage`` controls). :func:`run_control` repeats the trial and judges:

* ``null``: the false-positive rate must not be significantly above ``alpha`` (one-sided exact
  binomial test at level 0.001); ``bound`` is the largest rate that passes, alpha + MC error.
* ``planted``: the power must be at least 0.9 with 95% confidence (the exact Clopper-Pearson lower
  bound >= 0.9).
* ``coverage``: the coverage must not be significantly below the nominal level (one-sided exact
  binomial test at 0.001).
* ``power``: informational, not judged (``passed`` is None): the power at a size where the
  procedure is known to be weak (smoke-scale numbers of classes or bins), for the report.

The tests in ``tests/stats`` run these controls; the report can run them too (:func:`run_controls`).
Effects are sized like the paper's (an order-of-magnitude spread ratio, a phase-transition-like
separation) and the fixtures' sizes like its runs (20 classes at smoke scale, 100 at full scale).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import attrs
import numpy as np
from scipy import stats

from modes.stats import association, modality, planted
from modes.stats.multiple import holm
from modes.stats.piecewise import piecewise_step
from modes.stats.power import clopper_pearson
from modes.stats.split import largest_gap_split

ControlKind = Literal["null", "planted", "coverage", "power"]
CONTROL_ALPHA = 0.05
MIN_POWER = 0.9
NOMINAL_COVERAGE = 0.95
JUDGE_LEVEL = 0.001


@attrs.frozen
class Control:
    """One procedure on one fixture family; ``trial(rng)`` returns True on a rejection (or, for
    ``coverage`` controls, when the CI covers the truth)."""

    name: str
    area: str
    claims: tuple[str, ...]
    kind: ControlKind
    trial: Callable[[np.random.Generator], bool] = attrs.field(eq=False, repr=False)
    alpha: float = CONTROL_ALPHA
    max_reps: int | None = None


@attrs.frozen
class ControlResult:
    """Measured rate over ``reps`` trials, its exact 95% CI, the pass bound and the verdict."""

    name: str
    area: str
    claims: tuple[str, ...]
    kind: str
    alpha: float
    reps: int
    hits: int
    rate: float
    ci_low: float
    ci_high: float
    bound: float
    passed: bool | None

    def message(self) -> str:
        need = {"null": f"<= {self.bound:.3f} (alpha {self.alpha} + MC error)",
                "planted": f"power >= {MIN_POWER} with 95% confidence",
                "coverage": f">= {self.bound:.3f} (nominal {NOMINAL_COVERAGE} - MC error)",
                "power": "nothing (informational)"}
        return (f"{self.name}: rate {self.rate:.3f} ({self.hits}/{self.reps}, 95% CI "
                f"[{self.ci_low:.3f}, {self.ci_high:.3f}]); needs {need[self.kind]}")


def judge(control: Control, hits: int, reps: int) -> ControlResult:
    """Apply the pass criterion of the control's kind to ``hits`` out of ``reps``."""
    lo, hi = clopper_pearson(hits, reps)
    passed: bool | None
    if control.kind == "power":
        bound, passed = float("nan"), None
    elif control.kind == "null":
        limit = int(stats.binom.isf(JUDGE_LEVEL, reps, control.alpha))
        bound, passed = limit / reps, hits <= limit
    elif control.kind == "planted":
        bound, passed = MIN_POWER, lo >= MIN_POWER
    else:
        limit = int(stats.binom.ppf(JUDGE_LEVEL, reps, NOMINAL_COVERAGE))
        bound, passed = limit / reps, hits >= limit
    return ControlResult(name=control.name, area=control.area, claims=control.claims,
                         kind=control.kind, alpha=control.alpha, reps=reps, hits=hits,
                         rate=hits / reps, ci_low=lo, ci_high=hi, bound=bound, passed=passed)


def run_control(control: Control, reps: int = 300, seed: int = 0) -> ControlResult:
    """Repeat ``control.trial`` ``reps`` times from a seeded generator and judge the rate."""
    if reps < 50:
        raise ValueError(f"reps must be at least 50 to say anything, got {reps}")
    if control.max_reps is not None:
        reps = min(reps, control.max_reps)
    rng = np.random.default_rng(seed)
    hits = sum(bool(control.trial(rng)) for _ in range(reps))
    return judge(control, hits, reps)


def run_controls(controls: Sequence[Control] | None = None, reps: int = 300,
                 seed: int = 0) -> list[ControlResult]:
    """Run ``controls`` (default: all of :data:`CONTROLS`)."""
    return [run_control(c, reps, seed) for c in (CONTROLS if controls is None else controls)]


# --- modality: C1, C2, C3, C10 ---------------------------------------------------------------

_MODES = ("C1", "C2", "C3", "C10")
_RULE = modality.TwoModeRule(alpha=CONTROL_ALPHA)
_PAPER_SEPARATION = 8.0
_PAPER_RATIO = 10.0


def _dip_null(n: int, family: planted.MeanFamily) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        means = modality.class_means(planted.one_mode_classes(rng, n, 20, family))
        return modality.dip_test(means).p_value < CONTROL_ALPHA

    return Control(f"dip test, {family} one-mode null, {n} classes", "modality", _MODES, "null",
                   trial)


def _rule_null(n: int, family: planted.MeanFamily) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        return _RULE(modality.class_means(planted.one_mode_classes(rng, n, 20, family)))

    return Control(f"two-mode rule (dip and BIC), {family} one-mode null, {n} classes",
                   "modality", _MODES, "null", trial)


def _two_mode(n: int, frac_high: float, use_rule: bool, kind: ControlKind = "planted") -> Control:
    def trial(rng: np.random.Generator) -> bool:
        sets, _ = planted.two_mode_classes(rng, n, 20, frac_high, _PAPER_SEPARATION, _PAPER_RATIO)
        means = modality.class_means(sets)
        return _RULE(means) if use_rule else modality.dip_test(means).p_value < CONTROL_ALPHA

    what = "two-mode rule (dip and BIC)" if use_rule else "dip test"
    return Control(f"{what}, two modes {_PAPER_SEPARATION:g} sd apart, {frac_high:.0%} high, "
                   f"{n} classes", "modality", _MODES, kind, trial)


def _spread_ratio_null(n: int) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        sets = planted.one_mode_classes(rng, n, 20)
        split = largest_gap_split(modality.class_means(sets))
        if min(split.n_low, split.n_high) < 2:
            return False  # no CI, so C1 cannot claim a spread ratio: not a false positive
        return modality.spread_ratio(sets, split.high).ci_low > 2.0

    return Control(f"spread ratio CI above 2 after the largest-gap split, one-mode null, {n} "
                   "classes", "modality", ("C1",), "null", trial)


def _spread_ratio_coverage(n: int) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        sets, high = planted.two_mode_classes(rng, n, 20, 0.3, _PAPER_SEPARATION, _PAPER_RATIO)
        res = modality.spread_ratio(sets, high)
        # the per-class sd (ddof=1) of 20 normal draws has mean c4(20) * sigma in both groups
        return res.ci_low <= _PAPER_RATIO <= res.ci_high

    return Control(f"spread ratio 95% CI covers the planted ratio {_PAPER_RATIO:g}, {n} classes",
                   "modality", ("C1",), "coverage", trial)


# --- piecewise regression: C5, C7 ------------------------------------------------------------

_STEP = ("C5", "C7")


def _piecewise(n_bins: int, jump: float, kind: ControlKind) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        x, y = planted.piecewise_series(rng, n_bins, 0.6, -0.3, jump, 0.05, 0.03)
        return piecewise_step(x, y, 0.6).jump.p_value < CONTROL_ALPHA

    label = f"jump {jump:g} (noise 0.03)" if jump else "no jump (slope change only)"
    return Control(f"piecewise step test, {label}, {n_bins} bins, separate slopes", "piecewise",
                   _STEP, kind, trial)


def _piecewise_line() -> Control:
    """The common-slope model (for few bins) is exact only without a slope change."""

    def trial(rng: np.random.Generator) -> bool:
        x = np.linspace(0.0, 1.0, 8)
        y = -0.3 * x + 0.03 * rng.standard_normal(x.size)
        return piecewise_step(x, y, 0.6, separate_slopes=False).jump.p_value < CONTROL_ALPHA

    return Control("piecewise step test, no jump (one line), 8 bins, common slope", "piecewise",
                   _STEP, "null", trial)


def _slope(jump: float) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        x, y = planted.piecewise_series(rng, 50, 0.6, -0.3, jump, 0.0, 0.03)
        return piecewise_step(x, y, 0.6).slope_before.p_value < CONTROL_ALPHA

    return Control("pre-transition slope test, slope -0.3 with a jump, 50 bins", "piecewise",
                   ("C5",), "planted", trial)


# --- associations and comparisons: C4, C6, C8, C9 --------------------------------------------

def _spearman(rho: float) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        x, y = planted.correlated(rng, 50, rho)
        return association.spearman(x, y, "less").p_value < CONTROL_ALPHA

    kind: ControlKind = "planted" if rho else "null"
    return Control(f"Spearman (H1 rho < 0), rho {rho:g}, 50 bins", "association", ("C6",), kind,
                   trial)


def _paired(shift: float) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        a, b = planted.paired(rng, 100, shift)
        return association.paired_comparison(a, b, "less", n_boot=200).p_value < CONTROL_ALPHA

    kind: ControlKind = "planted" if shift else "null"
    return Control(f"Wilcoxon signed-rank (H1 a < b), b shifted {shift:g} sd, 100 classes",
                   "association", ("C8",), kind, trial)


def _ranks(shift: float, family: planted.MeanFamily) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        a, b = planted.two_groups(rng, 70, 30, shift, family)
        return association.two_sample_ranks(a, b, "less", n_boot=200).p_value < CONTROL_ALPHA

    kind: ControlKind = "planted" if shift else "null"
    return Control(f"Mann-Whitney U (H1 a < b), shift {shift:g} sd, {family}, 70 vs 30 classes",
                   "association", ("C4",), kind, trial)


def _welch(shift: float) -> Control:
    def trial(rng: np.random.Generator) -> bool:
        a, b = planted.two_groups(rng, 70, 30, shift)
        b = b * (2.0 if not shift else 1.0)  # unequal variances under the null: Welch's case
        return association.welch(a, b, "less").p_value < CONTROL_ALPHA

    kind: ControlKind = "planted" if shift else "null"
    label = f"shift {shift:g} sd" if shift else "equal means, sd ratio 2"
    return Control(f"Welch t (H1 a < b), {label}, 70 vs 30 classes", "association", ("C4",),
                   kind, trial)


def _stage_growth(stage_means: tuple[float, ...]) -> Control:
    inc = np.diff(stage_means)
    planted_effect = inc[1] > np.delete(inc, 1).max()

    def trial(rng: np.random.Generator) -> bool:
        kl, pairs = planted.stage_kl(rng, 20, stage_means)
        return association.stage_growth(kl, pairs, 1, n_boot=300).p_value < CONTROL_ALPHA

    kind: ControlKind = "planted" if planted_effect else "null"
    return Control(f"stage growth (class bootstrap), stage means {stage_means}, 20 classes",
                   "association", ("C8",), kind, trial)


def _holm_null() -> Control:
    def trial(rng: np.random.Generator) -> bool:
        p = rng.uniform(size=10)
        return any(holm({f"C{i + 1}": float(v) for i, v in enumerate(p)}, CONTROL_ALPHA)
                   .reject.values())

    return Control("Holm over 10 claims, global null (any rejection)", "association",
                   tuple(f"C{i}" for i in range(1, 11)), "null", trial)


CONTROLS: tuple[Control, ...] = (
    *(_dip_null(n, f) for n in (20, 100) for f in planted.MEAN_FAMILIES),
    *(_rule_null(n, f) for n in (20, 100) for f in ("gaussian", "heavy")),
    _two_mode(100, 0.3, use_rule=False),
    _two_mode(100, 0.3, use_rule=True),
    _two_mode(20, 0.5, use_rule=False),
    _two_mode(20, 0.5, use_rule=True),
    _two_mode(20, 0.3, use_rule=False, kind="power"),
    _two_mode(20, 0.3, use_rule=True, kind="power"),
    _spread_ratio_null(20),
    _spread_ratio_null(100),
    _spread_ratio_coverage(20),
    _spread_ratio_coverage(100),
    _piecewise(50, 0.0, "null"),
    _piecewise_line(),
    _piecewise(50, 0.1, "planted"),
    _piecewise(10, 0.1, "power"),
    _slope(0.1),
    _spearman(0.0),
    _spearman(-0.5),
    _paired(0.0),
    _paired(0.4),
    _ranks(0.0, "gaussian"),
    _ranks(0.0, "skewed"),
    _ranks(1.0, "gaussian"),
    _welch(0.0),
    _welch(1.0),
    _stage_growth((1.0, 2.0, 5.0, 8.0)),
    _stage_growth((1.0, 2.0, 8.0, 10.0)),
    _holm_null(),
)
