"""Planted inputs for the claims' decisions, shaped like the real ones, with known answers.

* Density bins (Fig. 3 claims): the bin axis comes from sorting a mixture of low-density classes
  (broad, 60% of examples) and high-density classes (higher, narrower) and splitting it into
  equal bins, so the high-density fraction ramps over a few mixed bins as in the smoke run
  (0.14 ... 1.0) and the transition falls between bins. Per-bin values follow a line before and
  a line after the transition with a planted jump at it, plus the sampling noise of a mean of
  ``count`` examples with bin-dependent spread.
* Subset KL matrices (C8): ``KL(P, Q)`` per stage and subset is a stage level times
  ``exp(u_P + u_Q + w_sP + w_sQ + v_P + v_Q + e_PQ)``: class effects ``u``, class-by-stage
  effects ``w`` (classes are fit at different stages) and class-by-subset effects ``v`` (the
  subset's own density fit) shared by every pair of a class, and pair noise ``e``; NaN diagonal,
  subsets ordered (memorized, typical, random) as the scenario returns them.
* Generative predictions (C9): three held-out subsets of examples with classes (memorized ones
  concentrated in fewer classes), correct at stage ``l`` with probability stage level + subset
  offset + class effect (the same uniform draw per example at every stage, so an example right
  at stage 2 stays right later), wrong ones assigned to a random other class.
* Per-example log-densities per class and stage (C1, C1s, C2, C4, C10): each stage is either one
  mode (class means from one unit-sd Gaussian, per-example sds jittered around 1) or two modes
  (a minority ``frac_high`` of classes ``separation`` class-mean sds higher, their per-example
  sd ``spread_ratio`` times smaller), drawn class by class as the scenario's ``(N,)`` arrays with
  their labels (:func:`layer_values`).
"""

from __future__ import annotations

import attrs
import numpy as np
from scipy import stats

from modes.decisions.class_fitting import SubsetDivergences
from modes.decisions.complexity import ComplexityInput
from modes.decisions.fscore_tracking import TrackingBins
from modes.decisions.generative import HeldOutPredictions
from modes.decisions.memorization_jump import MemorizationBins
from modes.decisions.robustness_drop import RobustnessBins
from modes.decisions.two_modes import LayerValues
from modes.stats.piecewise import transition_from_fractions
from modes.stats.planted import class_pairs, one_mode_classes, two_mode_classes


def bin_axis(n_bins: int, frac_high: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Bin-mean log-densities and high-density fractions of ``n_bins`` equal bins of the sorted
    mixture (deterministic: quantiles of low N(-25, 6) and high N(-10, 4) classes)."""
    m = 400 * n_bins
    n_high = round(frac_high * m)
    q = lambda k: (np.arange(k) + 0.5) / k  # noqa: E731
    values = np.concatenate([stats.norm.ppf(q(m - n_high), -25.0, 6.0),
                             stats.norm.ppf(q(n_high), -10.0, 4.0)])
    high = np.concatenate([np.zeros(m - n_high), np.ones(n_high)])
    order = np.argsort(values, kind="stable")
    x = np.array([b.mean() for b in np.array_split(values[order], n_bins)])
    frac = np.array([b.mean() for b in np.array_split(high[order], n_bins)])
    return x, frac


def segmented_truth(x: np.ndarray, transition: float, level: float, slope_before: float,
                    jump: float, slope_after: float) -> np.ndarray:
    """``level + slope_before (x - t)`` before ``t``, ``level + jump + slope_after (x - t)``
    from ``t`` on."""
    after = x >= transition
    centred = x - transition
    out: np.ndarray = level + np.where(after, jump + slope_after * centred,
                                       slope_before * centred)
    return out


def _bin_mean_and_sd(rng: np.random.Generator, truth: np.ndarray, sd: np.ndarray,
                     count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (ddof 1) of ``count`` normal examples per bin, drawn through their sampling
    distributions; NaN where a bin has fewer examples than the statistic needs."""
    k = count.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(k > 0, truth + sd / np.sqrt(np.maximum(k, 1)) * rng.standard_normal(
            truth.size), np.nan)
        chi = rng.chisquare(np.maximum(k - 1, 1))
        sample_sd = np.where(k > 1, sd * np.sqrt(chi / np.maximum(k - 1, 1)), np.nan)
    return mean, sample_sd


def memorization_bins(rng: np.random.Generator, n_bins: int = 8, per_bin: int = 250,
                      jump: float = 0.0, slope_before: float = -0.004, slope_after: float = 0.0,
                      level: float = 0.08, example_sd: float = 0.15) -> MemorizationBins:
    """C5's input: memorization falling (per nat) before the transition, the planted ``jump``
    at it, ``slope_after`` after; example sd grows by half from the low to the high bins."""
    x, frac = bin_axis(n_bins)
    return memorization_on(rng, x, frac, np.full(n_bins, per_bin),
                           example_sd * (1.0 + 0.5 * frac), level, slope_before, jump,
                           slope_after)


def memorization_on(rng: np.random.Generator, x: np.ndarray, frac: np.ndarray,
                    count: np.ndarray, sd: np.ndarray, level: float, slope_before: float,
                    jump: float, slope_after: float) -> MemorizationBins:
    """C5's input on a given bin axis (``x``, ``frac``) with ``count`` examples of example sd
    ``sd`` per bin around the segmented line (C5's power gate draws on the run's own axis)."""
    t = transition_from_fractions(x, frac)
    count = np.asarray(count, dtype=float)
    mean, sample_sd = _bin_mean_and_sd(
        rng, segmented_truth(x, t, level, slope_before, jump, slope_after),
        np.broadcast_to(np.asarray(sd, dtype=float), x.shape), count)
    return MemorizationBins(x, frac, mean, sample_sd, count)


def robustness_bins(rng: np.random.Generator, n_bins: int = 8, certify_per_bin: int = 30,
                    radius_jump: float = 0.0, fscore_jump: float = 0.0,
                    abstain_before: float = 0.4, abstain_after: float = 0.4,
                    radius_level: float = 0.45, radius_sd: float = 0.2,
                    radius_slope: float = 0.0, fscore_level: float = 0.7,
                    fscore_noise: float = 0.03,
                    axis: tuple[np.ndarray, np.ndarray] | None = None,
                    certified: np.ndarray | None = None) -> RobustnessBins:
    """C7's input: ``certify_per_bin`` certified inputs per bin, each abstaining with the
    before/after rate; radii (sd ``radius_sd``) over the inputs that did not abstain around a
    line (``radius_slope`` per nat on both sides) with ``radius_jump`` at the transition;
    smoothed F-score with ``fscore_jump`` and bin noise ``fscore_noise``. ``axis`` (bin-mean
    log-densities, high fractions) and ``certified`` (inputs per bin) replace the default bin
    axis and counts (C7's power gate draws on the run's own)."""
    x, frac = bin_axis(n_bins) if axis is None else axis
    t = transition_from_fractions(x, frac)
    after = x >= t
    certified = (np.full(x.size, certify_per_bin) if certified is None
                 else np.asarray(certified, dtype=np.int64))
    answered = rng.binomial(certified, np.where(after, 1 - abstain_after, 1 - abstain_before))
    radius = segmented_truth(x, t, radius_level, radius_slope, radius_jump, radius_slope)
    mean, sample_sd = _bin_mean_and_sd(rng, radius, np.full(x.size, radius_sd), answered)
    fscore = (segmented_truth(x, t, fscore_level, 0.0, fscore_jump, 0.0)
              + fscore_noise * rng.standard_normal(x.size))
    return RobustnessBins(x, frac, mean, sample_sd, certified, answered / certified, fscore)


def tracking_bins(rng: np.random.Generator, n_bins: int = 8, coupling: float = 1.0,
                  fscore_noise: float = 0.03) -> TrackingBins:
    """C6's input: memorization of :func:`memorization_bins` (with a 0.1 jump) and a held-out
    F-score of ``0.6 - coupling * (memorization - its mean)`` plus bin noise; ``coupling`` 0 is
    the null (F-score unrelated to memorization)."""
    mem = memorization_bins(rng, n_bins, jump=0.1).memorization_mean
    fscore = 0.6 - coupling * (mem - mem.mean()) + fscore_noise * rng.standard_normal(n_bins)
    return TrackingBins(mem, fscore)


def subset_kl(rng: np.random.Generator, n_classes: int = 19,
              stage_levels: tuple[float, ...] = (1.0, 2.0, 8.0, 10.0),
              memorized_shift: float = 0.0, class_sd: float = 0.3, stage_class_sd: float = 0.2,
              subset_class_sd: float = 0.2, pair_sd: float = 0.3,
              subset_sizes: tuple[int, int, int] | None = None) -> SubsetDivergences:
    """C8's input: per subset (memorized, typical, random) its own classes, ``subset_sizes``
    of them (default ``n_classes`` each), KL (stages, C_s, C_s); memorized pairs scaled by
    ``exp(memorized_shift)`` (negative: less distinct). The subsets' classes are different
    classes (independent class effects), as in the authors' Fig. 4 split files. Each factor has
    mean 1, so the mean KL of a stage is its level."""
    sizes = subset_sizes or (n_classes, n_classes, n_classes)
    var = 2 * class_sd**2 + 2 * stage_class_sd**2 + 2 * subset_class_sd**2 + pair_sd**2
    kl = {}
    for j, (name, size) in enumerate(zip(("memorized", "typical", "random"), sizes,
                                         strict=True)):
        pairs = class_pairs(size)
        p, q = pairs[:, 0], pairs[:, 1]
        u = class_sd * rng.standard_normal(size)
        v = subset_class_sd * rng.standard_normal(size)
        out = np.full((len(stage_levels), size, size), np.nan)
        for s, level in enumerate(stage_levels):
            w = stage_class_sd * rng.standard_normal(size)
            log = (u[p] + u[q] + w[p] + w[q] + v[p] + v[q]
                   + pair_sd * rng.standard_normal(p.size) - 0.5 * var
                   + (memorized_shift if j == 0 else 0.0))
            out[s, p, q] = level * np.exp(log)
        kl[name] = out
    return SubsetDivergences(kl, [f"stage {s + 1}" for s in range(len(stage_levels))])


def generative_predictions(rng: np.random.Generator, n_classes: int = 20,
                           per_subset: int = 100,
                           stage_accuracy: tuple[float, ...] = (0.3, 0.4, 0.75, 0.85),
                           memorized_offset: float = -0.15, unmemorized_offset: float = 0.05,
                           class_spread: float = 0.08,
                           sizes: tuple[int, int, int] | None = None) -> HeldOutPredictions:
    """C9's input: predictions (stages, 3 * per_subset) of subsets (memorized, unmemorized,
    random) of ``per_subset`` examples each. The random
    subset's expected accuracy at stage l is ``stage_accuracy[l]``: class effects are uniform
    on +-``class_spread`` and probabilities must stay in [0, 1] (ValueError otherwise).
    ``sizes`` (memorized, unmemorized, random) replaces ``per_subset`` for unequal subsets."""
    counts = sizes if sizes is not None else (per_subset, per_subset, per_subset)
    offsets = (memorized_offset, unmemorized_offset, 0.0)
    levels = np.asarray(stage_accuracy, dtype=float)
    lo = levels.min() + min(offsets) - class_spread
    hi = levels.max() + max(offsets) + class_spread
    if lo < 0 or hi > 1:
        raise ValueError(f"accuracies + offsets +- class spread leave [0, 1]: [{lo}, {hi}]")
    effect = rng.uniform(-class_spread, class_spread, n_classes)
    memorized_weights = rng.dirichlet(np.full(n_classes, 0.5))
    truth, prob = [], []
    for j, offset in enumerate(offsets):
        weights = memorized_weights if j == 0 else np.full(n_classes, 1.0 / n_classes)
        cls = rng.choice(n_classes, size=counts[j], p=weights)
        truth.append(cls)
        prob.append(levels[:, None] + offset + effect[cls][None, :])
    y = np.concatenate(truth)
    correct = rng.uniform(size=y.size)[None, :] < np.concatenate(prob, axis=1)
    wrong = (y + rng.integers(1, n_classes, size=y.size)) % n_classes
    predictions = np.where(correct, y[None, :], wrong[None, :])
    return HeldOutPredictions(predictions, y, np.asarray(counts),
                              [f"stage {s + 1}" for s in range(levels.size)], n_classes)


@attrs.frozen
class Stage:
    """One stage's shape: ``two_modes`` False is one mode; otherwise ``frac_high`` of the classes
    sit ``separation`` class-mean sds higher with ``spread_ratio`` times smaller example sds."""

    two_modes: bool = False
    frac_high: float = 0.25
    separation: float = 8.0
    spread_ratio: float = 10.0


ONE_MODE = Stage()
TWO_MODES = Stage(two_modes=True)


def stage_values(rng: np.random.Generator, stage: Stage, n_classes: int,
                 per_class: int) -> np.ndarray:
    """Per-example log-densities of one stage, class by class (``per_class`` each), shape
    ``(n_classes * per_class,)``, in the order of :func:`labels`."""
    if stage.two_modes:
        sets, _ = two_mode_classes(rng, n_classes, per_class, stage.frac_high,
                                   stage.separation, stage.spread_ratio)
    else:
        sets = one_mode_classes(rng, n_classes, per_class)
    return np.concatenate(sets)


def labels(n_classes: int, per_class: int) -> np.ndarray:
    return np.repeat(np.arange(n_classes), per_class)


def layer_values(rng: np.random.Generator, stages: tuple[Stage, ...], n_classes: int = 20,
                 per_class: int = 50) -> LayerValues:
    """Per-example log-densities at each stage of ``stages`` (shallow first), as C1, C1s, C2 and
    C10 read them."""
    return LayerValues([f"stage {i + 1}" for i in range(len(stages))],
                       [stage_values(rng, s, n_classes, per_class) for s in stages],
                       labels(n_classes, per_class))


def complexity_input(rng: np.random.Generator, n_classes: int = 20, per_class: int = 50,
                     ng_shift: float = 0.0, compact_shift: float = 0.0,
                     tc_shift: float = 0.0) -> ComplexityInput:
    """C4's input: a two-mode last stage; per class a total correlation (TC) 2 + 0.5 N(0, 1)
    nats plus ``tc_shift`` for the high-density classes (correlated Gaussians: denser at equal
    variances by exactly their TC), a non-Gaussianity N(0, 1) plus ``ng_shift`` for them (in its
    within-group sds), Eq. 4 = TC + non-Gaussianity (the identity of
    :mod:`modes.decisions.complexity`), and a mean intra-class distance N(10, 1) minus
    ``compact_shift`` for them (positive: more compact). The planted high classes are the
    largest-gap split's high side (``separation`` 8 leaves no overlap)."""
    stage = TWO_MODES
    sets, high = two_mode_classes(rng, n_classes, per_class, stage.frac_high, stage.separation,
                                  stage.spread_ratio)
    tc = 2.0 + 0.5 * rng.standard_normal(n_classes) + tc_shift * high
    ng = rng.standard_normal(n_classes) + ng_shift * high
    dist = 10.0 + rng.standard_normal(n_classes) - compact_shift * high
    return ComplexityInput(np.concatenate(sets), labels(n_classes, per_class), tc + ng, dist, tc)
