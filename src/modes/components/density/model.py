"""DPGMM: the density model of the paper (Eq. 2) fitted by batched blocked collapsed Gibbs.

``DPGMM(...).fit(x, groups)`` fits one independent DP-GMM per group (and per chain) in one batched
tensor program (:mod:`.sampler`) and returns a :class:`~.fitted.FittedDPGMM`.

Default dtype is float64: the Sherman-Morrison rank-one downdates subtract nearly equal quantities
when a component loses points, and float64 keeps the drift between exact refreshes below 1e-10;
float32 is supported (about twice as fast) and refreshes the statistics every ``refresh_every``
sweeps just the same.

Block updates: ``"independent"`` is the paper's scheme (a block's b assignments drawn independently
given the rest); it is not the block's exact joint conditional, and a Geweke test detects the bias
at small n. ``"metropolis"`` (default) uses that draw as a proposal with a Metropolis-Hastings
accept step against the exact block conditional, so the chain targets the posterior for any b; at
paper scale almost every proposal is accepted (see :func:`.sampler.sweep`).

``split_merge`` moves per sweep (default 0: the paper's sampler) add split-merge Metropolis-Hastings
moves (:mod:`.split_merge`) after each sweep.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import torch
from scipy.linalg import cho_solve, solve_triangular
from tqdm.auto import tqdm

from modes.store import ArtifactStore, request_key

from .diagnostics import assess
from .fitted import FittedDPGMM, KeptStates, Traces
from .niw import AUTHORS, WHITENINGS, NIWPrior, get_prior
from .sampler import ChainState, SamplerData, end_of_sweep, init_state, sweep
from .split_merge import split_merge

CHECKPOINT_KIND = "dpgmm-chain"
CHECKPOINT_VERSION = "5"  # bump when the sampler's random stream or algorithm changes (5: the
# "within" whitening's mixture ridge is relative to the class's scale)
DTYPES = {"float64": torch.float64, "float32": torch.float32}
BLOCK_UPDATES = ("metropolis", "independent")
STARTS = ("random", "one", "kmeans")


def _positive(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value}")


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class DPGMMConfig:
    """Sampler settings; defaults are the paper's (400 sweeps, burn-in 320, thin 4, b=4, K0=6).

    ``prior`` is the NIW base measure (:class:`.niw.NIWPrior` or a name in ``niw.PRIORS``; the
    default is the authors'). ``starts`` names each chain's start, chain ``c`` taking
    ``starts[c % len(starts)]``: ``"random"`` (every point in one of ``init_components`` components
    at random, the paper's), ``"one"`` (all points in one component) or ``"kmeans"`` (k-means with
    ``init_components`` clusters on the whitened group). Dispersed starts let split R-hat see
    chains that settle in different states (Gelman et al., BDA3, Sec. 11.4). ``split_merge``
    split-merge Metropolis-Hastings moves follow each sweep (:mod:`.split_merge`; 0, the paper's
    sampler, by default): they open and close whole components, which single-point Gibbs moves
    cannot do when one component covers several separated clusters.
    """

    sweeps: int = attrs.field(default=400, validator=_positive)
    burn_in: int = 320
    thin: int = attrs.field(default=4, validator=_positive)
    block_size: int = attrs.field(default=4, validator=_positive)
    init_components: int = attrs.field(default=6, validator=_positive)
    chains: int = attrs.field(default=1, validator=_positive)
    seed: int = 0
    dtype: str = "float64"
    refresh_every: int = attrs.field(default=10, validator=_positive)
    block_update: str = "metropolis"
    prior: NIWPrior = attrs.field(default=AUTHORS, converter=get_prior)
    starts: tuple[str, ...] = attrs.field(default=("random",), converter=_as_tuple)
    split_merge: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    def __attrs_post_init__(self) -> None:
        bad = [s for s in self.starts if s not in STARTS]
        if bad or not self.starts:
            raise ValueError(f"starts must be a non-empty sequence of {STARTS}, got {self.starts}")
        if self.burn_in < 0:
            raise ValueError(f"burn_in must be >= 0, got {self.burn_in}")
        if self.sweeps <= self.burn_in:
            raise ValueError(f"sweeps ({self.sweeps}) must exceed burn_in ({self.burn_in})")
        if self.sweeps - self.burn_in < self.thin:
            raise ValueError(
                f"sweeps - burn_in ({self.sweeps - self.burn_in}) must be >= thin "
                f"({self.thin}) to keep at least one state"
            )
        if self.block_update not in BLOCK_UPDATES:
            raise ValueError(
                f"block_update must be one of {BLOCK_UPDATES}, got {self.block_update!r}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")

    def kept(self, sweep_index: int) -> bool:
        """Whether the state after 0-based sweep ``sweep_index`` enters Eq. 3 (last of a thin)."""
        return (
            sweep_index >= self.burn_in
            and (sweep_index - self.burn_in) % self.thin == self.thin - 1
        )


@attrs.frozen
class PreparedData:
    """Validated inputs: group ids, per-group sizes/means/stds (1/N), whitened padded points."""

    x: np.ndarray
    groups: np.ndarray
    ids: np.ndarray
    sizes: np.ndarray
    loc: np.ndarray
    scale: np.ndarray
    padded: np.ndarray
    valid: np.ndarray
    chol: np.ndarray | None = None  # (G, d, d) lower Cholesky factors under full whitening
    clusters: np.ndarray | None = None  # (G,) clusters behind the "within" whitening (else 1)
    kappa_scale: np.ndarray | None = None  # (G,) kappa0 multiplier ("within" whitening, else 1)


def prepare(x: Any, groups: Any, whiten: str = "diagonal", max_clusters: int = 6) -> PreparedData:
    """Validate ``x`` (n, d) and ``groups`` (n,) and whiten each group (ValueError names faults).

    ``"diagonal"`` (the authors') centres each group and divides by its standard deviations, so
    that the prior's ``Psi0 = psi0 I`` is the group's variances; ``"full"`` multiplies by the
    inverse Cholesky factor of the group's covariance (1/N), so that ``Psi0`` has the group's
    covariance shape, correlations included: the data-derived prior of Fraley & Raftery (2007),
    which the authors' diagonal one simplifies; ``"within"`` uses the shared (tied) within-cluster
    covariance of the Gaussian mixture with 1 to ``max_clusters`` clusters that BIC prefers
    (:func:`within_cluster_covariance`), so that ``Psi0`` has the shape and size of one cluster of
    a clustered class and is ``"full"``'s for a class BIC finds to be one Gaussian. The model is
    equivariant under each of these affine maps.
    """
    if whiten not in WHITENINGS:
        raise ValueError(f"whiten must be one of {WHITENINGS}, got {whiten!r}")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim != 2:
        raise ValueError(f"x must be 2-D (n, d), got shape {xa.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(xa).all(1))
    if bad_rows.size:
        raise ValueError(
            f"x contains NaN or Inf in {bad_rows.size} rows, first rows {bad_rows[:5].tolist()}"
        )
    n, d = xa.shape
    if groups is None:
        ga = np.zeros(n, dtype=np.int64)
    else:
        if isinstance(groups, torch.Tensor):
            groups = groups.detach().cpu().numpy()
        ga = np.asarray(groups)
        if ga.ndim != 1 or ga.shape[0] != n:
            raise ValueError(f"groups must have shape ({n},) to match x, got {ga.shape}")
        if not np.issubdtype(ga.dtype, np.integer):
            raise ValueError(f"groups must hold integer ids, got dtype {ga.dtype}")
    ids, inverse, sizes = np.unique(ga, return_inverse=True, return_counts=True)
    small = ids[sizes < 2]
    if small.size:
        raise ValueError(
            f"every group needs at least 2 points; group(s) {small.tolist()} have "
            f"{sizes[sizes < 2].tolist()}"
        )
    few = ids[sizes < d]
    if few.size:
        warnings.warn(
            f"group(s) {few.tolist()[:10]} have fewer points than dimensions ({d}); the "
            f"NIW prior keeps their model proper but it is prior-dominated",
            stacklevel=3,
        )
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    slot = np.arange(n) - np.repeat(starts, sizes)
    row = inverse[order]
    loc = np.zeros((ids.size, d))
    np.add.at(loc, inverse, xa)
    loc /= sizes[:, None]
    var = np.zeros((ids.size, d))
    np.add.at(var, inverse, (xa - loc[inverse]) ** 2)
    var /= sizes[:, None]
    flat = np.argwhere(var <= 1e-300)
    if flat.size:
        raise ValueError(
            f"group {ids[flat[0, 0]]!r} has zero variance in dimension {flat[0, 1]}; "
            "the data-derived prior would be improper"
        )
    scale = np.sqrt(var)
    padded = np.zeros((ids.size, int(sizes.max()), d))
    centred = xa[order] - loc[row]
    chol = None
    clusters = np.ones(ids.size, dtype=np.int64)
    kappa_scale = np.ones(ids.size)
    if whiten in ("full", "within"):  # rows are sorted by group: one segment per group
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        segments = [centred[a:b] for a, b in itertools.pairwise(bounds)]
        covs = [seg.T @ seg / seg.shape[0] for seg in segments]
        totals = covs
        if whiten == "within":
            chosen = [within_cluster_covariance(seg, max_clusters) for seg in segments]
            covs = [c for c, _ in chosen]
            clusters = np.array([k for _, k in chosen], dtype=np.int64)
        chol = _group_cholesky(covs, ids, sizes)
        if whiten == "within":  # the means' prior spans the class: see NIWPrior
            kappa_scale = d / _whitened_traces(chol, totals)
        for g, seg in enumerate(segments):
            padded[g, : seg.shape[0]] = solve_triangular(chol[g], seg.T, lower=True).T
    else:
        padded[row, slot] = centred / scale[row]
    valid = np.zeros((ids.size, int(sizes.max())), dtype=bool)
    valid[row, slot] = True
    return PreparedData(
        x=xa, groups=ga, ids=ids, sizes=sizes, loc=loc, scale=scale, padded=padded, valid=valid,
        chol=chol, clusters=clusters, kappa_scale=kappa_scale,
    )


def within_cluster_covariance(seg: np.ndarray, max_clusters: int) -> tuple[np.ndarray, int]:
    """The tied within-cluster covariance of the BIC-preferred Gaussian mixture of the centred
    points ``seg`` (m, d) with 1 to ``max_clusters`` clusters, and that number of clusters.

    sklearn's ``GaussianMixture(covariance_type="tied")`` (seeded, k-means initialised) for k >= 2;
    for k = 1 the exact covariance (1/N) and its Gaussian log-likelihood, so that a class BIC reads
    as one Gaussian gets exactly the ``"full"`` whitening. Only k with at least d + 1 points per
    cluster on average are tried.
    """
    from sklearn.mixture import GaussianMixture  # imported only for this whitening

    m, d = seg.shape
    cov = seg.T @ seg / m
    if _singular(cov[None])[0]:
        return cov, 1  # _group_cholesky names the group
    logdet = np.linalg.slogdet(cov)[1]
    tied = d * (d + 1) / 2
    best_bic = -2.0 * (-0.5 * m * (d * np.log(2 * np.pi) + logdet + d)) + (d + tied) * np.log(m)
    best = (cov, 1)
    for k in range(2, max_clusters + 1):
        if m < k * (d + 1):
            break
        # the ridge is relative to the class's scale, as everything else in this affine-
        # equivariant model (an absolute 1e-9 swamped a class of variance 1e-10)
        gm = GaussianMixture(k, covariance_type="tied", random_state=0,
                             reg_covar=1e-9 * np.trace(cov) / d).fit(seg)
        bic = float(gm.bic(seg))
        if bic < best_bic:
            best_bic, best = bic, (np.asarray(gm.covariances_), k)
    return best


def _group_cholesky(covs: list[np.ndarray], ids: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of each group's whitening covariance; a singular one is an error.

    Singular means numerically: a smallest eigenvalue at most ``d * eps`` times the largest (the
    tolerance of ``numpy.linalg.matrix_rank``), not only one that makes the factorisation fail.
    Points that lie in a subspace (a ReLU channel dead for a whole class) give a covariance whose
    factorisation succeeds or fails with the last bit of rounding, and a prior built from either
    factor is improper.
    """
    cov = np.stack(covs)
    bad = _singular(cov)
    if bad.any():
        eig = np.linalg.eigvalsh(cov[bad])
        ratio = eig[:, 0] / np.abs(eig).max(1)
        raise ValueError(
            f"full whitening needs a non-singular covariance per group; group(s) "
            f"{ids[bad].tolist()[:10]} are singular (sizes {sizes[bad].tolist()[:10]}, dims "
            f"{cov.shape[-1]}, smallest/largest eigenvalue {[f'{r:.1e}' for r in ratio[:10]]}): "
            "their points lie in a subspace; use whiten='diagonal', fewer dims or more points"
        )
    return np.asarray(np.linalg.cholesky(cov))


def _singular(cov: np.ndarray) -> np.ndarray:
    """Which of the covariances ``cov`` (G, d, d) are numerically singular: not finite, or a
    smallest eigenvalue at most ``d * eps`` times the largest (``numpy.linalg.matrix_rank``'s
    tolerance)."""
    finite = np.all(np.isfinite(cov), axis=(1, 2))
    bad = ~finite
    eig = np.linalg.eigvalsh(cov[finite])
    bad[finite] = eig[:, 0] <= cov.shape[-1] * np.finfo(np.float64).eps * np.abs(eig).max(1)
    return np.asarray(bad)


def _whitened_traces(chol: np.ndarray, totals: list[np.ndarray]) -> np.ndarray:
    """``trace(W^-1 T)`` per group, solved with W's Cholesky factor (the factor
    :func:`_group_cholesky` checked) rather than a second, unchecked LU factorisation."""
    return np.array([np.trace(cho_solve((c, True), t)) for c, t in zip(chol, totals, strict=True)])


@attrs.define
class _Run:
    """Everything a resumable run carries between sweeps."""

    state: ChainState
    generator: torch.Generator
    done: int
    trace_lj: list[np.ndarray]
    trace_k: list[np.ndarray]
    trace_alpha: list[np.ndarray]
    kept: list[dict[str, torch.Tensor]]


SweepCallback = Callable[[int, Traces], None]


@attrs.frozen
class DPGMM:
    """Dirichlet-process Gaussian mixture with NIW base (Eq. 2), one per group, blocked CGS.

    ``DPGMM(sweeps=400, burn_in=320, thin=4, block_size=4, init_components=6, seed=0,
    device="cpu").fit(x, groups)``.
    """

    config: DPGMMConfig
    device: str = "cpu"
    progress: bool = True

    def __init__(
        self,
        sweeps: int = 400,
        burn_in: int = 320,
        thin: int = 4,
        block_size: int = 4,
        init_components: int = 6,
        seed: int = 0,
        device: str | torch.device = "cpu",
        chains: int = 1,
        dtype: str = "float64",
        refresh_every: int = 10,
        block_update: str = "metropolis",
        progress: bool = True,
        config: DPGMMConfig | None = None,
        prior: str | NIWPrior = "authors",
        starts: tuple[str, ...] = ("random",),
        split_merge: int = 0,
    ) -> None:
        if config is None:
            config = DPGMMConfig(
                sweeps=sweeps,
                burn_in=burn_in,
                thin=thin,
                block_size=block_size,
                init_components=init_components,
                chains=chains,
                seed=seed,
                dtype=dtype,
                refresh_every=refresh_every,
                block_update=block_update,
                prior=get_prior(prior),
                starts=starts,
                split_merge=split_merge,
            )
        self.__attrs_init__(config=config, device=str(device), progress=progress)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any,
        groups: Any = None,
        store: ArtifactStore | None = None,
        checkpoint_every: int | None = None,
        callback: SweepCallback | None = None,
        warn: bool = True,
    ) -> FittedDPGMM:
        """Sample the posterior of every group's DP-GMM; return the Eq. 3 predictive.

        With ``store``, the chain state (assignments, statistics, generator state, traces, kept
        states) is checkpointed every ``checkpoint_every`` sweeps (default 10) and at the end; a
        later call with the same data and config resumes from it and yields the same result as an
        uninterrupted run. ``callback(sweep, traces)`` runs after every sweep.
        """
        cfg = self.config
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        prep = prepare(x, groups, cfg.prior.whiten, cfg.prior.max_clusters)
        dtype, device = DTYPES[cfg.dtype], torch.device(self.device)
        data = _sampler_data(prep, cfg, dtype, device)
        key = request_key({"config": cfg, "x": prep.x, "groups": prep.groups}, CHECKPOINT_VERSION)
        run = _load_checkpoint(store, key, data) if store is not None else None
        if run is None:
            generator = torch.Generator(device=device).manual_seed(cfg.seed)
            z0 = initial_assignments(prep, cfg, generator, device)
            run = _Run(
                state=init_state(data, generator, z0),
                generator=generator,
                done=0,
                trace_lj=[],
                trace_k=[],
                trace_alpha=[],
                kept=[],
            )
        every = checkpoint_every or 10
        bar = tqdm(
            range(run.done, cfg.sweeps),
            initial=run.done,
            total=cfg.sweeps,
            disable=not self.progress,
            desc="DP-GMM sweeps",
            leave=False,
        )
        for s in bar:
            run.state = sweep(
                run.state,
                data,
                cfg.block_size,
                run.generator,
                metropolis=cfg.block_update == "metropolis",
            )
            if cfg.split_merge:
                run.state, _ = split_merge(run.state, data, cfg.split_merge, run.generator)
            run.state, record = end_of_sweep(
                run.state, data, run.generator, do_refresh=(s + 1) % cfg.refresh_every == 0
            )
            run.trace_lj.append(record.log_joint.cpu().numpy())
            run.trace_k.append(record.num_components.cpu().numpy())
            run.trace_alpha.append(record.alpha.cpu().numpy())
            if cfg.kept(s):
                run.kept.append(snapshot(run.state))
            run.done = s + 1
            if store is not None and (run.done % every == 0 or run.done == cfg.sweeps):
                _save_checkpoint(store, key, run)
            if callback is not None:
                callback(s, _traces(run, cfg.chains, len(prep.ids)))
        bar.close()
        traces = _traces(run, cfg.chains, len(prep.ids))
        kept_trace = traces.log_joint[cfg.burn_in :]
        convergence = assess(kept_trace, prep.ids, warn=warn)
        return FittedDPGMM(
            groups=prep.ids,
            sizes=prep.sizes,
            loc=torch.as_tensor(prep.loc, dtype=dtype, device=device),
            scale=torch.as_tensor(prep.scale, dtype=dtype, device=device),
            chol=None if prep.chol is None else torch.as_tensor(prep.chol, dtype=dtype,
                                                                  device=device),
            states=_stack_kept(run.kept, data, cfg.chains),
            traces=traces,
            convergence=convergence,
            nu0=cfg.prior.nu0(prep.padded.shape[2]),
            seed=cfg.seed,
            prior=cfg.prior,
            kappa_scale=None if prep.kappa_scale is None else torch.as_tensor(
                prep.kappa_scale, dtype=dtype, device=device),
        )


def initial_assignments(
    prep: PreparedData, cfg: DPGMMConfig, generator: torch.Generator, device: torch.device
) -> torch.Tensor | None:
    """Each chain's starting assignments (chains x groups, N), or None when every chain starts
    at random (the sampler then draws them, as it always has)."""
    if all(s == "random" for s in cfg.starts):
        return None
    from sklearn.cluster import KMeans  # imported only for k-means starts

    groups, n_max, _ = prep.padded.shape
    blocks = []
    for c in range(cfg.chains):
        start = cfg.starts[c % len(cfg.starts)]
        if start == "random":
            z = torch.randint(0, cfg.init_components, (groups, n_max), generator=generator,
                              device=device)
        else:
            z = torch.zeros((groups, n_max), dtype=torch.long, device=device)
        if start == "kmeans":
            for g, size in enumerate(prep.sizes.tolist()):
                k = min(cfg.init_components, size)
                labels = KMeans(n_clusters=k, n_init=1, random_state=cfg.seed + c).fit_predict(
                    prep.padded[g, :size])
                z[g, :size] = torch.as_tensor(labels, device=device)
        blocks.append(z)
    return torch.cat(blocks)


def snapshot(state: ChainState) -> dict[str, torch.Tensor]:
    """A kept state for Eq. 3: occupied slots first, cut to the largest occupied count + 1.

    Every row keeps its occupied slots and at least one empty (prior) slot; the chain's own slot
    labels are untouched.
    """
    occupied = state.counts > 0
    order = torch.argsort((~occupied).to(torch.int8), dim=1, stable=True)
    keep = int(occupied.sum(1).max().item()) + 1
    order = order[:, :keep]
    d = state.d

    def take(t: torch.Tensor) -> torch.Tensor:
        index = order.reshape(*order.shape, *[1] * (t.ndim - 2)).expand(-1, -1, *t.shape[2:])
        return t.gather(1, index)

    return {
        "counts": take(state.counts),
        "mean": take(state.mean),
        "precision": take(state.precision.reshape(*state.precision.shape[:2], d * d))
        .reshape(*order.shape, d, d)
        .to(torch.float32),
        "logdet": take(state.logdet),
        "alpha": state.alpha.clone(),
    }


def _sampler_data(
    prep: PreparedData, cfg: DPGMMConfig, dtype: torch.dtype, device: torch.device
) -> SamplerData:
    reps = (cfg.chains, 1, 1)
    y = torch.as_tensor(np.tile(prep.padded, reps), dtype=dtype, device=device)
    valid = torch.as_tensor(np.tile(prep.valid, reps[:2]), device=device)
    n = torch.as_tensor(np.tile(prep.sizes, cfg.chains), device=device)
    scale = None
    if prep.kappa_scale is not None and not np.all(prep.kappa_scale == 1.0):
        scale = torch.as_tensor(np.tile(prep.kappa_scale, cfg.chains), dtype=dtype,
                                device=device)
    return SamplerData(
        y=y, valid=valid, n=n, init_components=cfg.init_components, niw=cfg.prior,
        kappa_scale=scale,
    )


def _traces(run: _Run, chains: int, groups: int) -> Traces:
    def stack(rows: list[np.ndarray]) -> np.ndarray:
        if not rows:
            return np.zeros((0, chains, groups))
        return np.stack(rows).reshape(len(rows), chains, groups)

    return Traces(
        log_joint=stack(run.trace_lj),
        num_components=stack(run.trace_k),
        alpha=stack(run.trace_alpha),
    )


def _pad_slots(
    snapshots: list[dict[str, torch.Tensor]],
    data: SamplerData,
) -> dict[str, torch.Tensor]:
    """Stack snapshots of different capacity, padding with prior (empty) slots: (S, R, K, ...).

    Consumes ``snapshots`` (each is released once copied), so that the peak memory is about one
    copy of the kept states rather than two.
    """
    cap = max(snap["counts"].shape[1] for snap in snapshots)
    num, d = len(snapshots), data.d
    first = snapshots[0]
    out = {
        name: value.new_empty((num, value.shape[0], cap, *value.shape[2:]))
        if name != "alpha"
        else value.new_empty((num, *value.shape))
        for name, value in first.items()
    }
    prior = {"counts": 0.0, "mean": 0.0, "logdet": d * float(np.log(data.psi0))}
    for i in range(num):
        snap = snapshots.pop(0)
        k = snap["counts"].shape[1]
        for name, value in snap.items():
            if name == "alpha":
                out[name][i] = value
                continue
            out[name][i, :, :k] = value
            if name == "precision":
                eye = torch.eye(d, dtype=value.dtype, device=value.device) / data.psi0
                out[name][i, :, k:] = eye
            else:
                out[name][i, :, k:] = prior[name]
        del snap
    return out


def _stack_kept(
    kept: list[dict[str, torch.Tensor]],
    data: SamplerData,
    chains: int,
) -> KeptStates:
    stacked = _pad_slots(kept, data)

    def pool(t: torch.Tensor) -> torch.Tensor:  # (S, C*G, ...) -> (S*C, G, ...)
        s, r = t.shape[:2]
        return t.reshape(s * chains, r // chains, *t.shape[2:])

    return KeptStates(
        counts=pool(stacked["counts"]),
        mean=pool(stacked["mean"]),
        precision=pool(stacked["precision"]),
        logdet=pool(stacked["logdet"]),
        alpha=pool(stacked["alpha"]),
    )


# ---------------------------------------------------------------------- checkpoints
def _save_checkpoint(store: ArtifactStore, key: str, run: _Run) -> None:
    arrays: dict[str, np.ndarray] = {
        f"state_{k}": v.cpu().numpy() for k, v in run.state.arrays().items()
    }
    arrays["generator"] = run.generator.get_state().cpu().numpy()
    arrays["done"] = np.asarray(run.done)
    arrays["trace_lj"] = np.asarray(run.trace_lj)
    arrays["trace_k"] = np.asarray(run.trace_k)
    arrays["trace_alpha"] = np.asarray(run.trace_alpha)
    arrays["num_kept"] = np.asarray(len(run.kept))
    for i, snap in enumerate(run.kept):
        for name, value in snap.items():
            arrays[f"kept{i}_{name}"] = value.cpu().numpy()
    store.save(CHECKPOINT_KIND, key, arrays, meta={"done": run.done})


def _load_checkpoint(store: ArtifactStore, key: str, data: SamplerData) -> _Run | None:
    arrays = store.load(CHECKPOINT_KIND, key)
    if arrays is None:
        return None
    device = data.y.device

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, device=device)

    state = ChainState(
        **{k[len("state_") :]: t(v) for k, v in arrays.items() if k.startswith("state_")}
    )
    generator = torch.Generator(device=device)
    generator.set_state(torch.as_tensor(arrays["generator"]))
    kept = [
        {
            name: t(arrays[f"kept{i}_{name}"])
            for name in ("counts", "mean", "precision", "logdet", "alpha")
        }
        for i in range(int(arrays["num_kept"]))
    ]
    return _Run(
        state=state,
        generator=generator,
        done=int(arrays["done"]),
        trace_lj=list(arrays["trace_lj"]),
        trace_k=list(arrays["trace_k"]),
        trace_alpha=list(arrays["trace_alpha"]),
        kept=kept,
    )


def build_dpgmm(**kwargs: Any) -> DPGMM:
    """The sampler from keyword arguments: ``modes.registry.create("density", "dpgmm",
    sweeps=..., ...)`` (the registered component, :mod:`.component`, wraps it)."""
    return DPGMM(**kwargs)
