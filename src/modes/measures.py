"""Two measurements of class-conditional log-densities at one layer, each with its matched null.

``paper``: the paper's model and sampler read as the paper reads them — the authors' NIW prior,
Eq. 3 at the points the model was fitted on (in-sample), from one chain started at K0 = 6 random
components (the paper ran one chain per class); the other chains (dispersed starts) only feed the
diagnostics. ``checked``: what survives the sampler-artifact checks — a prior firm enough that a
Gaussian class is not split into collapsed components (:data:`modes.components.density.niw.FIRM`,
measured in ``benchmarks/bench_null_artifact.py`` and ``check_gaussian_class.py``), Eq. 3 at
held-out points (cross-fitted) without the DP's new-component term, every chain pooled, and
split-merge moves after every Gibbs sweep (``SamplerSettings.split_merge``), so that the chain
started at one component can open the components of a clustered class.

Each measurement also fits **matched nulls**: for every real class, ``replicates`` classes of the
same size drawn from one Gaussian with the class's mean and covariance (so, the same location,
scale and covariance spectrum and no structure beyond them), fitted with the same settings (all
replicates in one sampler call, on request: :func:`measure_nulls`) and read the same way. A claim
decides the nulls exactly as the real classes; the rate at which they show the claimed pattern is
that pattern's false-positive rate *under this measurement*.

Every fit is read once per **reading** (:data:`READINGS`: Eq. 3's predictive variant x state
averaging, :mod:`modes.components.density.readings`), all from the same kept states, so that the
sensitivity table's predictive and averaging choices (:mod:`modes.sensitivity`) re-read the
chains of the default run instead of re-running the sampler: :func:`measure_layer_readings`,
:func:`measure_nulls_readings`. The Fig. 4 and A.11 fits (C8, C9) are read the same way:
:func:`kl_to_all_readings`, :func:`classify_readings`. A density model without readings
(:class:`~modes.components.density.readings.ReadableDensity`,
:class:`~modes.components.density.readings.ReadableComparisons`) is read its one way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
import numpy as np
import torch

from modes.components.density import DPGMMDensity
from modes.components.density.class_diagnostics import ClassDiagnostics, diagnose_classes
from modes.components.density.component import dpgmm_config
from modes.components.density.crossfit import fold_assignment
from modes.components.density.fitted import AVERAGINGS, PREDICTIVES, default_averaging
from modes.components.density.niw import PRIORS
from modes.components.density.readings import (
    READINGS,
    ReadableComparisons,
    ReadableDensity,
    Reading,
)
from modes.components.protocols import DensityModel, StateLogDensities
from modes.seeds import stream

SPLIT_MERGE_MOVES: Final = 4
"""Split-merge moves per sweep of the checked measurement (:mod:`.components.density.split_merge`):
without them a chain started at one component never opens a second on a class of compact
separated clusters, so every planted class read "chains disagree"."""


@attrs.frozen
class DensityMeasure:
    """How a layer's class log-densities are measured (see the module docstring)."""

    name: str
    prior: str = attrs.field(validator=attrs.validators.in_(list(PRIORS)))
    held_out: bool
    predictive: str = attrs.field(validator=attrs.validators.in_(PREDICTIVES))
    first_chain_only: bool
    split_merge: bool  # runs the profile's split-merge moves (else Gibbs sweeps only)
    dispersed: bool = True  # chains start dispersed (DISPERSED_STARTS), else all at K0 random
    # state averaging; None: the predictive variant's own (fitted.default_averaging)
    averaging: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(AVERAGINGS)))

    @property
    def reading(self) -> Reading:
        """The reading of the chains this measurement reports."""
        return Reading(self.predictive, self.averaging or default_averaging(self.predictive))

    @property
    def fit(self) -> DensityMeasure:
        """What determines the chains, i.e. all but the reading (the base predictive and no
        averaging): the cache key of the fit, which every reading shares."""
        return attrs.evolve(self, predictive=MEASURES_BASE.get(self.name, self.predictive),
                            averaging=None)


PAPER = DensityMeasure("paper", prior="authors", held_out=False, predictive="paper",
                       first_chain_only=True, split_merge=False)
CHECKED = DensityMeasure("checked", prior="firm", held_out=True, predictive="occupied",
                         first_chain_only=False, split_merge=True)
MEASURES: Final = {m.name: m for m in (PAPER, CHECKED)}
MEASURES_BASE: Final = {"paper": "paper", "checked": "occupied", "paper-pooled": "paper"}
PAPER_POOLED: Final = DensityMeasure("paper-pooled", prior="authors", held_out=False,
                                     predictive="paper", first_chain_only=False,
                                     split_merge=False, dispersed=False)
"""The Fig. 4 and A.11 experiments' fits: the authors' prior, Eq. 3 as written, every chain
(each started at K0 random components) pooled; not a measurement of the claims (not in
:data:`MEASURES`)."""


@attrs.frozen
class SamplerSettings:
    """The sampler knobs of a scale profile that a measurement uses."""

    sweeps: int
    burn_in: int
    thin: int
    block_size: int
    init_components: int
    chains: int
    dtype: str
    folds: int
    kl_samples: int
    null_replicates: int
    block_update: str = "metropolis"  # DPGMMConfig.block_update ("independent": the authors')
    split_merge: int = SPLIT_MERGE_MOVES  # moves per sweep where the measure uses them


@attrs.frozen(eq=False)
class LayerMeasurement:
    """The real classes of one layer: (1, ...) arrays, and their diagnostics."""

    log_density: np.ndarray  # (1, N)
    relative_entropy: np.ndarray  # (1, C)
    mean_intra_distance: np.ndarray  # (1, C)
    class_mean_in_sample: np.ndarray  # (C,) in-sample class means (paper) or NaN (checked)
    diagnostics: ClassDiagnostics  # of the real classes

    def to_arrays(self) -> dict[str, np.ndarray]:
        d = self.diagnostics
        return {"log_density": self.log_density, "relative_entropy": self.relative_entropy,
                "mean_intra_distance": self.mean_intra_distance,
                "class_mean_in_sample": self.class_mean_in_sample,
                **{f"diag_{f.name}": np.asarray(getattr(d, f.name))
                   for f in attrs.fields(ClassDiagnostics) if f.name != "thresholds"}}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> LayerMeasurement:
        fields: dict[str, Any] = {f.name: a[f"diag_{f.name}"]
                                  for f in attrs.fields(ClassDiagnostics) if f.name != "thresholds"}
        diag = ClassDiagnostics(**fields)
        return cls(log_density=a["log_density"], relative_entropy=a["relative_entropy"],
                   mean_intra_distance=a["mean_intra_distance"],
                   class_mean_in_sample=a["class_mean_in_sample"], diagnostics=diag)


def matched_null(x: np.ndarray, labels: np.ndarray, replicates: int,
                 rng: np.random.Generator) -> np.ndarray:
    """(replicates, N, d): every class redrawn from the Gaussian with its mean and covariance.

    A class with no more points than dimensions has a singular covariance; it gets a ridge of
    1e-6 times its mean variance so that the draw stays in (almost) its span.
    """
    out = np.empty((replicates, *x.shape))
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        xc = x[idx]
        cov = np.cov(xc, rowvar=False, bias=True).reshape(x.shape[1], x.shape[1])
        cov += 1e-6 * max(float(np.trace(cov)) / x.shape[1], 1e-300) * np.eye(x.shape[1])
        chol = np.linalg.cholesky(cov)
        z = rng.normal(size=(replicates, idx.size, x.shape[1]))
        out[:, idx] = xc.mean(0) + z @ chol.T
    return out


def total_correlation(x: np.ndarray) -> float:
    """Total correlation of the Gaussian with the covariance of the rows of ``x`` (1/N):
    ``0.5 (sum_j log Sigma_jj - log det Sigma) = -0.5 log det R`` (R the correlation matrix).

    This is KL(N(m, Sigma) || N(m, diag Sigma)): Eq. 4's reference q is the max-entropy
    *diagonal* Gaussian with the class's means and 1/N variances (the fit's ``loc`` and ``scale``,
    :func:`modes.components.density.model.prepare`), so for any class density p with that
    covariance, Eq. 4 = KL(p || q) = KL(p || N(m, Sigma)) + TC: the relative entropy splits into
    the class's non-Gaussianity and this term (:mod:`modes.decisions.complexity`).

    Computed from the same points and the same 1/N moments as q (log det from the Cholesky
    factor of the correlation matrix, in float64; NaN when it is singular, n <= d). As an
    estimate of the population TC the plug-in is biased upward by
    ``0.5 (d psi((n-1)/2) - sum_{i<d} psi((n-1-i)/2))`` for Gaussian data, about
    ``d (d - 1) / (4 n)`` (:func:`total_correlation_bias`: 3.0 nats at d 64, n 333; 0.3 at
    d 16, n 200); it is the TC of the covariance the fitted density was estimated with, so it
    cancels in the non-Gaussianity of a Gaussian class, and it is the same for classes of equal
    size, so it does not enter a comparison between classes."""
    x = np.asarray(x, dtype=np.float64)
    n, d = x.shape
    if n <= d:
        return float("nan")
    centred = x - x.mean(0)
    cov = centred.T @ centred / n
    sd = np.sqrt(np.diag(cov))
    if not np.all(sd > 0):
        return float("nan")
    try:
        chol = np.linalg.cholesky(cov / np.outer(sd, sd))
    except np.linalg.LinAlgError:
        return float("nan")
    return float(-np.log(np.diag(chol)).sum())


def total_correlation_bias(n: int, d: int) -> float:
    """Expected plug-in :func:`total_correlation` of ``n`` Gaussian points in ``d`` independent
    dimensions (the upward bias of the estimate at n/d): with n S ~ Wishart(n - 1, Sigma),
    E log det(n S) = log det Sigma + sum_{i<d} psi((n-1-i)/2) + d log 2 and each
    E log(n S_jj) = log Sigma_jj + psi((n-1)/2) + log 2."""
    from scipy.special import digamma

    if n <= d:
        raise ValueError(f"the total correlation needs n > d points, got n {n}, d {d}")
    return float(0.5 * (d * digamma((n - 1) / 2) - digamma((n - 1 - np.arange(d)) / 2).sum()))


def class_total_correlations(worlds: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                             settings: SamplerSettings, seed: int) -> np.ndarray:
    """(W, C) :func:`total_correlation` of every class of every world (W, N, d), on the points
    Eq. 4's q is built from: the class (in-sample), or, held out, the mean over the class's
    fold models of each one's training points (the folds of :func:`_fit_worlds` at ``seed``),
    as Eq. 4 is the mean over those fold models. No density is fitted."""
    classes, code = np.unique(labels, return_inverse=True)
    n_worlds = worlds.shape[0]
    groups = (np.arange(n_worlds)[:, None] * classes.size + code[None]).reshape(-1)
    points = worlds.reshape(-1, worlds.shape[2])
    out = np.empty(n_worlds * classes.size)
    if measure.held_out:
        fold = fold_assignment(groups, settings.folds, fold_seed(seed))
        for g in range(out.size):
            mine = groups == g
            out[g] = np.mean([total_correlation(points[mine & (fold != f)])
                              for f in range(settings.folds)])
    else:
        for g in range(out.size):
            out[g] = total_correlation(points[groups == g])
    return out.reshape(n_worlds, classes.size)


def null_worlds(x: np.ndarray, labels: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """The matched-null worlds (replicates, N, d) of a measurement seeded ``seed``: the same
    draws :func:`measure_nulls_readings` fits."""
    rng = stream(seed, "matched-nulls").rng()
    return matched_null(np.asarray(x, dtype=np.float64), np.asarray(labels), replicates, rng)


def null_fit_seed(seed: int) -> int:
    """The seed of the matched nulls' fit (and so of their folds) in a measurement seeded
    ``seed``."""
    return stream(seed, "null-fits").int_seed()


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over distinct pairs of rows (compactness in Fig. 2)."""
    t = torch.as_tensor(x, dtype=torch.float64)
    n = t.shape[0]
    return float(torch.cdist(t, t).sum() / (n * (n - 1))) if n > 1 else 0.0


ModelFactory = Callable[[int], DensityModel]
"""``seed -> DensityModel``: the density model a measurement fits, seeded per fit."""


def dpgmm_models(measure: DensityMeasure, settings: SamplerSettings,
                 device: str = "cpu") -> ModelFactory:
    """The DP-GMM read as ``measure`` says, with the sampler ``settings``
    (:func:`~modes.components.density.component.dpgmm_config`, as the registry builds it)."""

    def build(seed: int) -> DensityModel:
        return DPGMMDensity(dpgmm_config(settings, measure, seed, settings.block_update, device))

    return build


@attrs.frozen(eq=False)
class _Fit:
    log_density: np.ndarray  # (W, N)
    relative_entropy: np.ndarray  # (W, C)


@attrs.frozen(eq=False)
class _Fitted:
    """One fit of every world's classes, read with each reading (keyed by ``Reading.key``)."""

    readings: dict[str, _Fit]
    states: StateLogDensities  # (T, N) per-state log-densities of world 0
    small: np.ndarray  # (C,) collapsed-component fraction of world 0's classes
    n_fit: np.ndarray  # (C,) points each class model was fitted on


def relative_entropy_seed(seed: int, index: int) -> int:
    """The seed of Eq. 4's Monte Carlo samples of group or fold ``index`` of a measurement
    seeded ``seed``."""
    return stream(seed, "relative-entropy", index).int_seed()


def fold_seed(seed: int) -> int:
    """The seed of the cross-fitting folds of a measurement seeded ``seed``."""
    return stream(seed, "cross-fitting-folds").int_seed()


def per_fold_draws(kl_samples: int, folds: int) -> int:
    """Eq. 4's Monte Carlo draws for each fold model of a cross-fitted class: the class's
    ``kl_samples`` split over its ``folds`` (rounded up), so a class's relative entropy (the mean
    over its folds) rests on ``kl_samples`` draws under either measurement. Eq. 4's draws cost
    a third of a checked fit at smoke size, and drawing ``kl_samples`` for every fold made the
    checked class's estimate ``folds`` times dearer than the paper measurement's. Measured on 20
    correlated Gaussian classes (n 100, d 16, smoke sampler): split minus unsplit estimates have
    sd 0.25 nats, against a between-class sd of Eq. 4 of 0.94 nats."""
    return -(-kl_samples // folds)


def _read(fitted: Any, x: np.ndarray, own: np.ndarray, rel_groups: list[int], seeds: list[int],
          kl_samples: int, measure: DensityMeasure,
          readings: tuple[Reading, ...]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Eq. 3 of ``x`` under ``own`` and Eq. 4 of ``rel_groups`` per reading: every reading from
    one fit when the model has readings, else the model's one way, stored as the measure's
    reading (a variant reading of such a model is then a clear KeyError, never another's)."""
    if isinstance(fitted, ReadableDensity):
        return {k: (r.log_density, r.relative_entropy)
                for k, r in fitted.read_all(x, own, readings, rel_groups, kl_samples,
                                            seeds).items()}
    rel = np.array([fitted.relative_entropy(g, kl_samples, s)
                    for g, s in zip(rel_groups, seeds, strict=True)])
    return {measure.reading.key: (fitted.log_prob_own(x, own), rel)}


def kl_to_all_readings(fitted: Any, group: int, num_samples: int, measure: DensityMeasure,
                       readings: tuple[Reading, ...] = READINGS, seed: int | None = None,
                       targets: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Eq. 4 from ``group`` to every fitted group, or to ``targets`` in their order (Fig. 4,
    C8), per reading, from one fit: every reading when the model has them
    (:class:`ReadableComparisons`, which computes the targets' KLs only), else the model's one
    way, stored as ``measure``'s reading (another reading is then a clear KeyError, never
    another's numbers)."""
    if isinstance(fitted, ReadableComparisons):
        return fitted.read_kl_to_all(group, readings, num_samples, seed, targets)
    row = np.asarray(fitted.kl_to_all(group, num_samples, seed))
    if targets is not None:
        column = {int(g): i for i, g in enumerate(fitted.groups)}
        row = row[[column[int(g)] for g in targets]]
    return {measure.reading.key: row}


def classify_readings(fitted: Any, x: np.ndarray, measure: DensityMeasure,
                      readings: tuple[Reading, ...] = READINGS) -> dict[str, np.ndarray]:
    """Eq. A.7's class of every row of ``x`` (Fig. A.11, C9) per reading, from one fit (as
    :func:`kl_to_all_readings`)."""
    if isinstance(fitted, ReadableComparisons):
        return fitted.read_classify(x, readings)
    return {measure.reading.key: np.asarray(fitted.classify(x))}


def _fit_worlds(worlds: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                settings: SamplerSettings, seed: int, models: ModelFactory,
                readings: tuple[Reading, ...]) -> _Fitted:
    """Fit every class of every world (W, N, d) in one call of the density model; read in-sample
    or held out (cross-fitted) as ``measure`` says, with each of ``readings``. Only protocol
    methods are called (:class:`modes.components.protocols.FittedDensity`, and
    :class:`~modes.components.density.readings.ReadableDensity` where the model has it)."""
    classes, code = np.unique(labels, return_inverse=True)
    n_worlds, n = worlds.shape[:2]
    groups = (np.arange(n_worlds)[:, None] * classes.size + code[None]).reshape(-1)
    points = worlds.reshape(-1, worlds.shape[2])
    model = models(seed)
    unique = [int(g) for g in np.unique(groups)]
    if measure.held_out:
        # every (class, fold) model in one fit: group g * folds + f is group g without fold f
        folds = settings.folds
        fold = fold_assignment(groups, folds, fold_seed(seed))
        parts = [np.flatnonzero(fold != f) for f in range(folds)]
        rows = np.concatenate(parts)
        fold_groups = np.concatenate([groups[p] * folds + f for f, p in enumerate(parts)])
        fitted = model.fit(points[rows], fold_groups)
        own = groups * folds + fold
        read = _read(fitted, points, own, [g * folds + f for g in unique for f in range(folds)],
                     [relative_entropy_seed(seed, f) for _ in unique for f in range(folds)],
                     per_fold_draws(settings.kl_samples, folds), measure, readings)
        return _Fitted(
            readings={k: _Fit(log_density=ld.reshape(n_worlds, n),
                              relative_entropy=rel.reshape(-1, folds).mean(1).reshape(
                                  n_worlds, classes.size))
                      for k, (ld, rel) in read.items()},
            states=fitted.state_log_prob_own(points[:n], own[:n]),
            small=fitted.collapsed_fraction().reshape(-1, folds).mean(1)[: classes.size],
            n_fit=np.bincount(code) * (folds - 1) / folds)
    fitted = model.fit(points, groups)
    read = _read(fitted, points, groups, unique, [relative_entropy_seed(seed, g) for g in unique],
                 settings.kl_samples, measure, readings)
    return _Fitted(
        readings={k: _Fit(log_density=ld.reshape(n_worlds, n),
                          relative_entropy=rel.reshape(n_worlds, classes.size))
                  for k, (ld, rel) in read.items()},
        states=fitted.state_log_prob_own(points[:n], groups[:n]),
        small=fitted.collapsed_fraction()[: classes.size],
        n_fit=np.bincount(code).astype(np.float64))


def _distances(worlds: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([[mean_pairwise_distance(w[labels == c]) for c in np.unique(labels)]
                     for w in worlds])


def measure_layer_readings(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                           settings: SamplerSettings, seed: int, device: str = "cpu",
                           models: ModelFactory | None = None,
                           readings: tuple[Reading, ...] = READINGS
                           ) -> dict[str, LayerMeasurement]:
    """Fit the real classes of one layer once and read them with each of ``readings`` (keyed by
    :attr:`Reading.key`; a model without readings gives only the measure's), each with its
    diagnostics. ``models`` is the density model (default: the DP-GMM, :func:`dpgmm_models`)."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    models = models or dpgmm_models(measure, settings, device)
    fitted = _fit_worlds(x[None], labels, measure, settings, seed, models, readings)
    diagnostics = diagnose_classes(fitted.states.states, labels, fitted.states.chains,
                                   fitted.small, x.shape[1], fitted.n_fit)
    distances = _distances(x[None], labels)
    out = {}
    for key, fit in fitted.readings.items():
        in_sample = (np.full(fitted.small.size, np.nan) if measure.held_out else
                     np.array([fit.log_density[0][labels == c].mean()
                               for c in np.unique(labels)]))
        out[key] = LayerMeasurement(log_density=fit.log_density,
                                    relative_entropy=fit.relative_entropy,
                                    mean_intra_distance=distances,
                                    class_mean_in_sample=in_sample, diagnostics=diagnostics)
    return out


def measure_layer(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu",
                  models: ModelFactory | None = None) -> LayerMeasurement:
    """Fit the real classes of one layer and read them with ``measure``, with diagnostics."""
    return measure_layer_readings(x, labels, measure, settings, seed, device, models,
                                  (measure.reading,))[measure.reading.key]


@attrs.frozen(eq=False)
class NullMeasurement:
    """The matched nulls of one layer, read like the real classes: (R, N) and (R, C) arrays."""

    log_density: np.ndarray
    relative_entropy: np.ndarray
    mean_intra_distance: np.ndarray

    def to_arrays(self) -> dict[str, np.ndarray]:
        return attrs.asdict(self)

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> NullMeasurement:
        return cls(**{f.name: a[f.name] for f in attrs.fields(cls)})


def measure_nulls_readings(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                           settings: SamplerSettings, seed: int, device: str = "cpu",
                           models: ModelFactory | None = None,
                           readings: tuple[Reading, ...] = READINGS
                           ) -> dict[str, NullMeasurement]:
    """``settings.null_replicates`` matched nulls of the layer, fitted exactly as the real
    classes (one fit for all replicates) and read with each of ``readings``."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    worlds = null_worlds(x, labels, settings.null_replicates, seed)
    models = models or dpgmm_models(measure, settings, device)
    fitted = _fit_worlds(worlds, labels, measure, settings, null_fit_seed(seed), models, readings)
    distances = _distances(worlds, labels)
    return {key: NullMeasurement(log_density=fit.log_density,
                                 relative_entropy=fit.relative_entropy,
                                 mean_intra_distance=distances)
            for key, fit in fitted.readings.items()}


def measure_nulls(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu",
                  models: ModelFactory | None = None) -> NullMeasurement:
    """``settings.null_replicates`` matched nulls of the layer, fitted and read with ``measure``
    exactly as the real classes (one fit for all replicates)."""
    return measure_nulls_readings(x, labels, measure, settings, seed, device, models,
                                  (measure.reading,))[measure.reading.key]


def readings_to_arrays(measured: dict[str, Any]) -> dict[str, np.ndarray]:
    """One artifact's arrays for several readings (each a :class:`LayerMeasurement` or
    :class:`NullMeasurement`): ``"<reading key>/<array>"``."""
    return {f"{key}/{name}": value for key, m in measured.items()
            for name, value in m.to_arrays().items()}


def reading_arrays(arrays: Any, reading: Reading) -> dict[str, np.ndarray]:
    """The arrays of ``reading`` in an artifact written by :func:`readings_to_arrays`."""
    prefix = f"{reading.key}/"
    out = {k[len(prefix):]: arrays[k] for k in arrays if k.startswith(prefix)}
    if not out:
        stored = sorted({k.split("/", 1)[0] for k in arrays if "/" in k})
        raise KeyError(f"the artifact holds no reading {reading.key!r} (it holds {stored}: a "
                       f"density model without readings is read its one way only)")
    return out
