"""Two measurements of class-conditional log-densities at one layer, each with its matched null.

``paper``: the paper's model and sampler read as the paper reads them — the authors' NIW prior,
Eq. 3 at the points the model was fitted on (in-sample), from one chain started at K0 = 6 random
components (the paper ran one chain per class); the other chains (dispersed starts) only feed the
diagnostics. ``checked``: what survives the sampler-artifact checks — a prior firm enough that a
Gaussian class is not split into collapsed components (:data:`modes.components.density.niw.FIRM`,
measured in ``benchmarks/bench_null_artifact.py`` and ``check_gaussian_class.py``), Eq. 3 at
held-out points (cross-fitted) without the DP's new-component term, every chain pooled.

Each measurement also fits **matched nulls**: for every real class, ``replicates`` classes of the
same size drawn from one Gaussian with the class's mean and covariance (so, the same location,
scale and covariance spectrum and no structure beyond them), fitted with the same settings (all
replicates in one sampler call, on request: :func:`measure_nulls`) and read the same way. A claim
decides the nulls exactly as the real classes; the rate at which they show the claimed pattern is
that pattern's false-positive rate *under this measurement*.

Every fit is read once per **reading** (:data:`READINGS`: Eq. 3's predictive variant x state
averaging, :mod:`modes.components.density.fitted`), all from the same kept states, so that the
sensitivity table's predictive and averaging choices (:mod:`modes.sensitivity`) re-read the
chains of the default run instead of re-running the sampler: :func:`measure_layer_readings`,
:func:`measure_nulls_readings`.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import numpy as np
import torch

from modes.components.density import DPGMM, DPGMMConfig
from modes.components.density.class_diagnostics import (
    ClassDiagnostics,
    diagnose_classes,
    small_component_fraction,
)
from modes.components.density.crossfit import cross_fit
from modes.components.density.fitted import AVERAGINGS, PREDICTIVES, default_averaging
from modes.components.density.niw import PRIORS

PAPER_START: Final = "random"  # chain 0: the paper's K0 = 6 random start
DISPERSED_STARTS: Final = ("random", "one", "kmeans", "random")


@attrs.frozen
class Reading:
    """How kept chain states are read into Eq. 3: a predictive variant and a state averaging."""

    predictive: str = attrs.field(validator=attrs.validators.in_(PREDICTIVES))
    averaging: str = attrs.field(validator=attrs.validators.in_(AVERAGINGS))

    @property
    def key(self) -> str:
        """``"occupied.density"``: the prefix of this reading's arrays in a stored artifact."""
        return f"{self.predictive}.{self.averaging}"


READINGS: Final = tuple(Reading(p, a) for p in PREDICTIVES for a in AVERAGINGS)


@attrs.frozen
class DensityMeasure:
    """How a layer's class log-densities are measured (see the module docstring)."""

    name: str
    prior: str = attrs.field(validator=attrs.validators.in_(list(PRIORS)))
    held_out: bool
    predictive: str = attrs.field(validator=attrs.validators.in_(PREDICTIVES))
    first_chain_only: bool
    # state averaging; None: the predictive variant's own (fitted.default_averaging)
    averaging: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(AVERAGINGS)))

    @property
    def reading(self) -> Reading:
        """The reading of the chains this measurement reports."""
        return Reading(self.predictive, self.averaging or default_averaging(self.predictive))

    @property
    def fit(self) -> dict[str, Any]:
        """What determines the chains, i.e. all but the reading: the store's request for them,
        which every reading shares."""
        return {k: v for k, v in attrs.asdict(self).items()
                if k not in ("predictive", "averaging")}


PAPER = DensityMeasure("paper", prior="authors", held_out=False, predictive="paper",
                       first_chain_only=True)
CHECKED = DensityMeasure("checked", prior="firm", held_out=True, predictive="occupied",
                         first_chain_only=False)
MEASURES: Final = {m.name: m for m in (PAPER, CHECKED)}


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


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over distinct pairs of rows (compactness in Fig. 2)."""
    t = torch.as_tensor(x, dtype=torch.float64)
    n = t.shape[0]
    return float(torch.cdist(t, t).sum() / (n * (n - 1))) if n > 1 else 0.0


def _model(measure: DensityMeasure, settings: SamplerSettings, seed: int, device: str) -> DPGMM:
    starts = DISPERSED_STARTS[:settings.chains] if settings.chains > 1 else (PAPER_START,)
    return DPGMM(config=DPGMMConfig(
        sweeps=settings.sweeps, burn_in=settings.burn_in, thin=settings.thin,
        block_size=settings.block_size, init_components=settings.init_components,
        chains=settings.chains, seed=seed, dtype=settings.dtype, prior=measure.prior,
        starts=starts, block_update=settings.block_update), device=device, progress=False)


@attrs.frozen(eq=False)
class _Fit:
    log_density: np.ndarray  # (W, N)
    relative_entropy: np.ndarray  # (W, C)
    states: np.ndarray  # (T, N) per-state log-densities of world 0
    small: np.ndarray  # (C,) collapsed-component fraction of world 0's classes
    n_fit: np.ndarray  # (C,) points each class model was fitted on


def _by_predictive(readings: tuple[Reading, ...]) -> dict[str, list[str]]:
    """The readings' averagings per predictive variant (per-state densities and Eq. 4's draws
    depend on the variant only, so each variant is computed once and averaged both ways)."""
    out: dict[str, list[str]] = {}
    for r in readings:
        out.setdefault(r.predictive, []).append(r.averaging)
    return out


def _fit_worlds(worlds: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                settings: SamplerSettings, seed: int, device: str,
                readings: tuple[Reading, ...]) -> dict[str, _Fit]:
    """Fit every class of every world (W, N, d) in one sampler call; read the chains with each
    of ``readings`` (keyed by :attr:`Reading.key`), all from the same kept states."""
    classes, code = np.unique(labels, return_inverse=True)
    n_worlds, n = worlds.shape[:2]
    groups = (np.arange(n_worlds)[:, None] * classes.size + code[None]).reshape(-1)
    points = worlds.reshape(-1, worlds.shape[2])
    model = _model(measure, settings, seed, device)
    out = {}
    if measure.held_out:
        fold_seed = int(np.random.SeedSequence([seed, 0x666F6C64]).generate_state(1)[0])
        cf = cross_fit(model, points, groups, settings.folds, seed=fold_seed,
                       predictive=measure.predictive)
        small = cf.small_fraction()[: classes.size]
        n_fit = np.bincount(code) * (settings.folds - 1) / settings.folds
        for predictive, averagings in _by_predictive(readings).items():
            read = cf.read(points, predictive)
            rels = [read.relative_entropies(int(g), settings.kl_samples, seed)
                    for g in np.unique(groups)]
            for averaging in averagings:
                log_density = read.averaged(averaging).log_density
                rel = np.array([r[averaging] for r in rels])
                out[Reading(predictive, averaging).key] = _Fit(
                    log_density=log_density.reshape(n_worlds, n),
                    relative_entropy=rel.reshape(n_worlds, classes.size),
                    states=read.states[:, :n], small=small, n_fit=n_fit)
        return out
    chains = model.fit(points, groups, warn=False)
    small = small_component_fraction(chains.states.counts, chains.dim, chains.nu0)[: classes.size]
    for predictive, averagings in _by_predictive(readings).items():
        fitted = chains.with_predictive(predictive)
        reader = fitted.chain(0) if measure.first_chain_only else fitted
        per_state = reader.log_prob_own_states(points, groups)
        states = (per_state[:, :n] if not measure.first_chain_only
                  else fitted.log_prob_own_states(points[:n], groups[:n])).cpu().numpy()
        rels = [reader.relative_entropy_by_averaging(
            group=int(g), num_samples=settings.kl_samples, seed=seed + int(g))
            for g in np.unique(groups)]
        for averaging in averagings:
            own = reader.with_predictive(predictive, averaging)
            log_density = own.average_states(per_state).cpu().numpy()
            rel = np.array([r[averaging] for r in rels])
            out[Reading(predictive, averaging).key] = _Fit(
                log_density=log_density.reshape(n_worlds, n),
                relative_entropy=rel.reshape(n_worlds, classes.size), states=states,
                small=small, n_fit=np.bincount(code).astype(np.float64))
    return out


def _distances(worlds: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([[mean_pairwise_distance(w[labels == c]) for c in np.unique(labels)]
                     for w in worlds])


def measure_layer_readings(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                           settings: SamplerSettings, seed: int, device: str = "cpu",
                           readings: tuple[Reading, ...] = READINGS
                           ) -> dict[str, LayerMeasurement]:
    """Fit the real classes of one layer once and read them with each of ``readings`` (keyed by
    :attr:`Reading.key`), each with its diagnostics."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    fits = _fit_worlds(x[None], labels, measure, settings, seed, device, readings)
    distances = _distances(x[None], labels)
    out = {}
    for key, fit in fits.items():
        in_sample = (np.full(fit.small.size, np.nan) if measure.held_out else
                     np.array([fit.log_density[0][labels == c].mean()
                               for c in np.unique(labels)]))
        diagnostics = diagnose_classes(fit.states, labels, settings.chains, fit.small,
                                       x.shape[1], fit.n_fit)
        out[key] = LayerMeasurement(log_density=fit.log_density,
                                    relative_entropy=fit.relative_entropy,
                                    mean_intra_distance=distances,
                                    class_mean_in_sample=in_sample, diagnostics=diagnostics)
    return out


def measure_layer(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu") -> LayerMeasurement:
    """Fit the real classes of one layer and read them with ``measure``, with diagnostics."""
    return measure_layer_readings(x, labels, measure, settings, seed, device,
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
                           readings: tuple[Reading, ...] = READINGS
                           ) -> dict[str, NullMeasurement]:
    """``settings.null_replicates`` matched nulls of the layer, fitted exactly as the real
    classes (one sampler call for all replicates) and read with each of ``readings``."""
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E756C6C]))
    worlds = matched_null(x, labels, settings.null_replicates, rng)
    fits = _fit_worlds(worlds, labels, measure, settings, seed + 1, device, readings)
    distances = _distances(worlds, labels)
    return {key: NullMeasurement(log_density=fit.log_density,
                                 relative_entropy=fit.relative_entropy,
                                 mean_intra_distance=distances)
            for key, fit in fits.items()}


def measure_nulls(x: np.ndarray, labels: np.ndarray, measure: DensityMeasure,
                  settings: SamplerSettings, seed: int, device: str = "cpu") -> NullMeasurement:
    """``settings.null_replicates`` matched nulls of the layer, fitted and read with ``measure``
    exactly as the real classes (one sampler call for all replicates)."""
    return measure_nulls_readings(x, labels, measure, settings, seed, device,
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
        raise KeyError(f"the artifact holds no reading {reading.key!r}")
    return out
