"""The fitted DP-GMM: posterior predictive densities (Eq. 3), sampling, KL (Eq. 4), Eq. A.7.

Kept chain states ``c_t`` (after burn-in and thinning, pooled over chains) are stored per group in
whitened group coordinates (see :mod:`.niw`): per state and slot the count, posterior mean,
precision ``Psi_n^-1`` (stored in float32: half the memory of the kept states, ~0.5 GB
for 20 states of 100 groups in 64 dims; used in the model dtype) and ``log det Psi_n`` (model
dtype), plus the state's alpha. A slot with count 0 is the
prior ("new component") slot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch

from .alpha import sample_gamma
from .diagnostics import Convergence
from .niw import AUTHORS, NIWPrior, niw_log_predictive

CHUNK = 256

PREDICTIVES = ("paper", "occupied", "authors")
"""Variants of Eq. 3's per-state predictive and of its average over kept states.

``"paper"``: Eq. 3 as written, the exact DP predictive given ``c_t``: occupied components weighted
``n_k / (n + alpha)`` plus the new-component (prior predictive) term ``alpha / (n + alpha)``, and
densities averaged over states. ``"occupied"``: occupied components only, weights ``n_k / n``,
densities averaged. ``"authors"``: as the authors' code (``latent_space_sampler.py``,
``calculate_predictive_log_densities.py``): occupied components weighted ``alpha + n_k`` and
**log**-densities averaged over states.
"""

AVERAGINGS = ("density", "log")
"""How Eq. 3's per-state predictives are averaged over kept states: ``"density"`` (Eq. 3 as
written, a Monte Carlo average of densities) or ``"log"`` (the authors'
``calculate_predictive_log_densities.py``: the mean of the log-densities, a lower bound by
Jensen). Each predictive variant has its own (``"log"`` for ``"authors"``, ``"density"``
otherwise); :meth:`FittedDPGMM.with_predictive` can set the other, so that the averaging is a
choice of its own (the sensitivity table's ``averaging`` column)."""


def default_averaging(predictive: str) -> str:
    """The state averaging that predictive variant ``predictive`` uses on its own."""
    if predictive not in PREDICTIVES:
        raise ValueError(f"unknown predictive {predictive!r}; known: {list(PREDICTIVES)}")
    return "log" if predictive == "authors" else "density"


@attrs.frozen
class Traces:
    """Per-sweep traces, each (sweeps, chains, groups): log p(X, c | alpha), components, alpha."""

    log_joint: np.ndarray = attrs.field(eq=False)
    num_components: np.ndarray = attrs.field(eq=False)
    alpha: np.ndarray = attrs.field(eq=False)


@attrs.frozen(eq=False)
class KeptStates:
    """Kept chain states, (T, G, K, ...) with T = kept sweeps x chains."""

    counts: torch.Tensor
    mean: torch.Tensor
    precision: torch.Tensor  # float32
    logdet: torch.Tensor
    alpha: torch.Tensor  # (T, G)


@attrs.frozen(eq=False)
class FittedDPGMM:
    """Posterior predictive of one DP-GMM per group (``groups`` holds the group ids)."""

    groups: np.ndarray
    sizes: np.ndarray
    loc: torch.Tensor  # (G, d) group means
    scale: torch.Tensor  # (G, d) group standard deviations (1/N)
    states: KeptStates
    traces: Traces
    convergence: Convergence
    nu0: float
    seed: int
    prior: NIWPrior = AUTHORS
    chol: torch.Tensor | None = None  # (G, d, d) group covariance factors (full whitening)
    kappa_scale: torch.Tensor | None = None  # (G,) per-group kappa0 multiplier (or all 1)
    predictive: str = attrs.field(default="paper", validator=attrs.validators.in_(PREDICTIVES))
    # None: the predictive's own (default_averaging)
    averaging: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(AVERAGINGS)))

    def with_predictive(self, predictive: str, averaging: str | None = None) -> FittedDPGMM:
        """The same chains read through another predictive variant (:data:`PREDICTIVES`) and,
        when given, another state averaging (:data:`AVERAGINGS`; default: the variant's own)."""
        return attrs.evolve(self, predictive=predictive, averaging=averaging)

    @property
    def state_averaging(self) -> str:
        """The state averaging in use: the set one, or the predictive variant's own."""
        return self.averaging or default_averaging(self.predictive)

    def kappa0(self, gidx: torch.Tensor) -> torch.Tensor:
        """kappa0 of the groups ``gidx`` (B,)."""
        k = torch.full(gidx.shape, self.prior.kappa0, dtype=self.dtype, device=self.device)
        return k if self.kappa_scale is None else k * self.kappa_scale[gidx]

    @property
    def dim(self) -> int:
        return int(self.loc.shape[1])

    @property
    def device(self) -> torch.device:
        return self.loc.device

    @property
    def dtype(self) -> torch.dtype:
        return self.loc.dtype

    # ------------------------------------------------------------------ inputs
    def group_index(self, group: Any) -> int:
        """Position of group id ``group`` in :attr:`groups`; ValueError for an unknown id."""
        hits = np.flatnonzero(self.groups == group)
        if hits.size != 1:
            raise ValueError(
                f"unknown group id {group!r}; fitted groups are {self.groups.tolist()}"
            )
        return int(hits[0])

    def _as_points(self, x: Any, name: str = "x") -> torch.Tensor:
        t = torch.as_tensor(x).to(device=self.device, dtype=self.dtype)
        if t.ndim != 2 or t.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (m, {self.dim}), got {tuple(t.shape)}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or Inf")
        return t

    def _whiten(self, x: torch.Tensor, gidx: torch.Tensor) -> torch.Tensor:
        """(m, d) data points -> (B, m, d) whitened in the coordinates of each group in gidx."""
        return self._whiten_batch(x.unsqueeze(0).expand(gidx.numel(), -1, -1), gidx)

    def _whiten_batch(self, x: torch.Tensor, gidx: torch.Tensor) -> torch.Tensor:
        """(B, m, d) points, row b in the coordinates of group gidx[b]."""
        centred = x - self.loc[gidx].unsqueeze(1)
        if self.chol is None:
            return centred / self.scale[gidx].unsqueeze(1)
        solved: torch.Tensor = torch.linalg.solve_triangular(
            self.chol[gidx], centred.transpose(1, 2), upper=False
        )
        return solved.transpose(1, 2)

    def _unwhiten(self, y: torch.Tensor, g: int) -> torch.Tensor:
        """(m, d) whitened points of group g -> data coordinates."""
        if self.chol is None:
            return self.loc[g] + self.scale[g] * y
        return self.loc[g] + y @ self.chol[g].T

    # ------------------------------------------------------------------ Eq. 3
    def _log_weights(self, gidx: torch.Tensor) -> torch.Tensor:
        """log predictive weights (T, B, K) of the :attr:`predictive` variant; for ``"paper"``
        the CRP's n_k/(n+a), and a/(n+a) for the first empty slot."""
        counts = self.states.counts[:, gidx]
        alpha = self.states.alpha[:, gidx].unsqueeze(-1)
        n = counts.sum(-1, keepdim=True)
        empty = counts == 0
        if self.predictive != "paper":
            extra = alpha if self.predictive == "authors" else torch.zeros_like(alpha)
            w = torch.where(empty, -math.inf, torch.log(counts + extra))
            return w - torch.logsumexp(w, -1, keepdim=True)
        first_empty = empty & (torch.cumsum(empty.to(torch.int32), -1) == 1)
        w = torch.where(
            empty, torch.where(first_empty, torch.log(alpha), -math.inf), torch.log(counts)
        )
        return w - torch.log(n + alpha)

    def _log_prob_states(self, y: torch.Tensor, gidx: torch.Tensor) -> torch.Tensor:
        """log p(y | D_g, c_t) per kept state, (T, B, M), for whitened ``y`` (B, M, d)."""
        st = self.states
        d = self.dim
        log_w = self._log_weights(gidx)
        kappa0 = self.kappa0(gidx).unsqueeze(-1)  # (B, 1)
        out = []
        for t in range(st.counts.shape[0]):
            mean = st.mean[t, gidx]  # (B, K, d)
            precision = st.precision[t, gidx].to(self.dtype)  # (B, K, d, d)
            counts, logdet = st.counts[t, gidx], st.logdet[t, gidx]
            kappa = (kappa0 + counts).unsqueeze(-1)
            nu = (self.nu0 + counts).unsqueeze(-1)
            parts = []
            for start in range(0, y.shape[1], CHUNK):
                diff = y[:, None, start : start + CHUNK] - mean.unsqueeze(2)  # (B, K, m, d)
                maha = (torch.matmul(diff, precision) * diff).sum(-1)
                logt = niw_log_predictive(maha, logdet.unsqueeze(-1), kappa, nu, d)
                parts.append(torch.logsumexp(logt + log_w[t].unsqueeze(-1), dim=1))
            out.append(torch.cat(parts, dim=1))
        return torch.stack(out)

    def average_states(self, lp: torch.Tensor) -> torch.Tensor:
        """Eq. 3's Monte Carlo average over kept states (dim 0): of densities, or of
        log-densities (:attr:`state_averaging`, e.g. the ``"authors"`` variant's)."""
        if self.state_averaging == "log":
            return lp.mean(0)
        return torch.logsumexp(lp, 0) - math.log(lp.shape[0])

    def _log_prob_whitened(self, y: torch.Tensor, gidx: torch.Tensor) -> torch.Tensor:
        return self.average_states(self._log_prob_states(y, gidx))

    def _log_jacobian(self, gidx: torch.Tensor) -> torch.Tensor:
        if self.chol is None:
            return torch.log(self.scale[gidx]).sum(-1)
        return torch.log(torch.diagonal(self.chol[gidx], dim1=-2, dim2=-1)).sum(-1)

    def log_prob(self, x: Any, group: Any = None) -> torch.Tensor:
        """Eq. 3: log posterior predictive density of the points ``x`` (m, d) under ``group``, (m,).

        ``group`` may be omitted when a single group was fitted.
        """
        g = self._default_group(group)
        xt = self._as_points(x)
        gidx = torch.tensor([g], device=self.device)
        return (
            self._log_prob_whitened(self._whiten(xt, gidx), gidx)
            - self._log_jacobian(gidx).unsqueeze(-1)
        )[0]

    def log_prob_all(self, x: Any) -> torch.Tensor:
        """Eq. 3 for every fitted group at once: (m, G) log p(x | D_g)."""
        xt = self._as_points(x)
        gidx = torch.arange(len(self.groups), device=self.device)
        lp = self._log_prob_whitened(self._whiten(xt, gidx), gidx)
        return (lp - self._log_jacobian(gidx).unsqueeze(-1)).T

    def log_prob_own(self, x: Any, groups: Any) -> torch.Tensor:
        """Eq. 3 for each point under its own group's model, (m,), in one batched pass."""
        return self.average_states(self.log_prob_own_states(x, groups))

    def log_prob_own_states(self, x: Any, groups: Any) -> torch.Tensor:
        """``log p(x_i | D_g, c_t)`` of each point under its own group, per kept state: (T, m).

        The per-state terms of Eq. 3; their per-state class means and sds are the traces that
        :mod:`.class_diagnostics` checks for agreement between chains.
        """
        xt = self._as_points(x)
        ga = np.asarray(groups.detach().cpu() if isinstance(groups, torch.Tensor) else groups)
        if ga.shape != (xt.shape[0],):
            raise ValueError(f"groups must have shape ({xt.shape[0]},) to match x, got {ga.shape}")
        pos = np.clip(np.searchsorted(self.groups, ga), 0, len(self.groups) - 1)
        unknown = np.unique(ga[self.groups[pos] != ga])
        if unknown.size:
            raise ValueError(
                f"unknown group id(s) {unknown.tolist()[:10]}; fitted groups are "
                f"{self.groups.tolist()}"
            )
        gi = torch.as_tensor(pos, device=self.device, dtype=torch.long)
        present = torch.unique(gi)
        sizes = (gi.unsqueeze(0) == present.unsqueeze(1)).sum(1)
        order = torch.argsort(gi, stable=True)
        width = int(sizes.max().item()) if present.numel() else 0
        starts = torch.cumsum(sizes, 0) - sizes
        slot = torch.arange(xt.shape[0], device=self.device) - torch.repeat_interleave(
            starts, sizes
        )
        row = torch.repeat_interleave(torch.arange(present.numel(), device=self.device), sizes)
        padded = torch.zeros(present.numel(), width, self.dim, dtype=self.dtype, device=self.device)
        padded[row, slot] = xt[order]
        y = self._whiten_batch(padded, present)
        lp = self._log_prob_states(y, present) - self._log_jacobian(present)[None, :, None]
        out = torch.empty(lp.shape[0], xt.shape[0], dtype=self.dtype, device=self.device)
        out[:, order] = lp[:, row, slot]
        return out

    # ------------------------------------------------------------------ chains
    @property
    def chains(self) -> int:
        """Number of chains pooled in :attr:`states` (kept state ``t`` is chain ``t % chains``)."""
        return int(self.traces.log_joint.shape[1])

    def chain(self, c: int) -> FittedDPGMM:
        """The predictive of chain ``c`` alone (its kept states only)."""
        if not 0 <= c < self.chains:
            raise ValueError(f"chain must lie in [0, {self.chains}), got {c}")
        keep = torch.arange(c, self.states.counts.shape[0], self.chains, device=self.device)
        states = KeptStates(**{f.name: getattr(self.states, f.name)[keep]
                               for f in attrs.fields(KeptStates)})
        return attrs.evolve(self, states=states)

    # ------------------------------------------------------------------ Eq. A.7
    def classify(
        self,
        x: Any,
        priors: Sequence[float] | Mapping[Any, float] | None = None,
    ) -> np.ndarray:
        """Eq. A.7 generative classifier: argmax_C log p(x | C) + log p(C), as group ids.

        ``priors`` defaults to the empirical group frequencies of the fitted data; a sequence is
        aligned with :attr:`groups`, a mapping is keyed by group id.
        """
        return self.classify_by_averaging(x, priors)[self.state_averaging]

    def classify_by_averaging(
        self,
        x: Any,
        priors: Sequence[float] | Mapping[Any, float] | None = None,
    ) -> dict[str, np.ndarray]:
        """Eq. A.7 under each state averaging (:data:`AVERAGINGS`) from one pass of per-state
        densities: ``out[a]`` equals ``self.with_predictive(self.predictive, a).classify(x,
        priors)``, at half the cost of two calls."""
        xt = self._as_points(x)
        gidx = torch.arange(len(self.groups), device=self.device)
        lp = self._log_prob_states(self._whiten(xt, gidx), gidx)  # (T, G, m)
        offset = self._log_prior(priors).unsqueeze(-1) - self._log_jacobian(gidx).unsqueeze(-1)
        return {a: np.asarray(self.groups[torch.argmax(
                    self.with_predictive(self.predictive, a).average_states(lp) + offset,
                    dim=0).cpu().numpy()])
                for a in AVERAGINGS}

    def _log_prior(self, priors: Sequence[float] | Mapping[Any, float] | None) -> torch.Tensor:
        """(G,) log class priors: the fitted groups' frequencies, or ``priors``."""
        if priors is None:
            p = self.sizes / self.sizes.sum()
        elif isinstance(priors, Mapping):
            p = np.asarray([priors[g] for g in self.groups.tolist()], dtype=np.float64)
        else:
            p = np.asarray(priors, dtype=np.float64)
        if p.shape != (len(self.groups),) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
            raise ValueError(f"priors must be {len(self.groups)} probabilities summing to 1")
        with np.errstate(divide="ignore"):
            return torch.as_tensor(np.log(p), dtype=self.dtype, device=self.device)

    # ------------------------------------------------------------------ sampling
    def _generator(self, seed: int | None) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(
            self.seed + 7919 if seed is None else seed
        )

    def _sample_whitened(
        self,
        m: int,
        g: int,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """m draws of Eq. 3's predictive in whitened coordinates, and the kept state of each."""
        st = self.states
        d = self.dim
        num_states = st.counts.shape[0]
        gidx = torch.tensor([g], device=self.device)
        t = torch.randint(0, num_states, (m,), generator=generator, device=self.device)
        log_w = self._log_weights(gidx)[:, 0]  # (T, K)
        probs = torch.softmax(log_w[t], dim=-1)
        k = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        counts = st.counts[t, g, k]
        kappa, df = self.kappa0(gidx) + counts, self.nu0 + counts - d + 1
        chol_psi = torch.linalg.cholesky(
            torch.cholesky_inverse(torch.linalg.cholesky(st.precision[:, g].to(self.dtype)))
        )  # (T, K, d, d)
        z = torch.randn((m, d), generator=generator, dtype=self.dtype, device=self.device)
        chi2 = 2 * sample_gamma(df / 2, generator)
        factor = torch.sqrt((kappa + 1) / (kappa * df) * df / chi2)
        step = torch.matmul(chol_psi[t, k], z.unsqueeze(-1)).squeeze(-1)
        return st.mean[t, g, k] + factor.unsqueeze(-1) * step, t

    def sample(self, m: int, group: Any = None, seed: int | None = None) -> torch.Tensor:
        """m draws from the posterior predictive of ``group``: (state, component, Student-t)."""
        if m < 1:
            raise ValueError(f"m must be >= 1, got {m}")
        g = self._default_group(group)
        y, _ = self._sample_whitened(m, g, self._generator(seed))
        return self._unwhiten(y, g)

    # ------------------------------------------------------------------ Eq. 4
    def _kl_terms(
        self,
        g_p: int,
        num_samples: int,
        seed: int | None,
        per_state: bool,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        y, t = self._sample_whitened(num_samples, g_p, self._generator(seed))
        gidx = torch.tensor([g_p], device=self.device)
        if per_state:  # the paper's literal Eq. 4: log p(x_st | D, c_t)
            lp = self._log_prob_states(y.unsqueeze(0), gidx)[:, 0]
            log_p = lp.gather(0, t.unsqueeze(0))[0]
        else:
            log_p = self._log_prob_whitened(y.unsqueeze(0), gidx)[0]
        return y, log_p

    def relative_entropy(
        self,
        group: Any = None,
        num_samples: int = 10_000,
        seed: int | None = None,
        per_state: bool = False,
    ) -> float:
        """Eq. 4: Monte Carlo KL(p(x | D_g) || q) with q the max-entropy diagonal Gaussian of D_g.

        ``q`` has the group's data mean and variances, i.e. the standard normal in whitened
        coordinates (the Jacobians cancel). ``per_state`` uses the paper's literal estimator with
        ``log p(x_st | D, c_t)``, an upper bound in expectation; the default uses Eq. 3's mixture.
        """
        g = self._default_group(group)
        y, log_p = self._kl_terms(g, num_samples, seed, per_state)
        return self._relative_entropy_of(y, log_p, g)

    def relative_entropy_by_averaging(self, group: Any = None, num_samples: int = 10_000,
                                      seed: int | None = None) -> dict[str, float]:
        """Eq. 4 under each state averaging (:data:`AVERAGINGS`) from one set of draws and one
        pass of per-state densities: ``out[a]`` equals
        ``self.with_predictive(self.predictive, a).relative_entropy(group, num_samples, seed)``
        (the draws depend on the predictive's weights only), at half the cost of two calls."""
        g = self._default_group(group)
        y, _ = self._sample_whitened(num_samples, g, self._generator(seed))
        lp = self._log_prob_states(y.unsqueeze(0), torch.tensor([g], device=self.device))
        return {a: self._relative_entropy_of(
                    y, self.with_predictive(self.predictive, a).average_states(lp)[0], g)
                for a in AVERAGINGS}

    def _relative_entropy_of(self, y: torch.Tensor, log_p: torch.Tensor, g: int) -> float:
        """Eq. 4's Monte Carlo mean from draws ``y`` (whitened) of group ``g`` and their Eq. 3
        log-densities ``log_p`` in whitened coordinates."""
        gidx = torch.tensor([g], device=self.device)
        # both densities in the group's standardised coordinates z = (x - mean) / sd, where q is
        # N(0, I); log p_z = log p_y - log|dy/dz|, and y = z when whitening is diagonal
        z = (self._unwhiten(y, g) - self.loc[g]) / self.scale[g]
        log_p = log_p - self._log_jacobian(gidx)[0] + torch.log(self.scale[g]).sum()
        log_q = -0.5 * (z.square().sum(-1) + self.dim * math.log(2 * math.pi))
        return float((log_p - log_q).mean())

    def kl(
        self,
        g_p: Any,
        g_q: Any,
        num_samples: int = 10_000,
        seed: int | None = None,
        per_state: bool = False,
    ) -> float:
        """Eq. 4: Monte Carlo KL(p(x | D_p) || p(x | D_q)) between two groups' predictives."""
        ip, iq = self.group_index(g_p), self.group_index(g_q)
        y, log_p = self._kl_terms(ip, num_samples, seed, per_state)
        x = self._unwhiten(y, ip)
        log_q = self._log_prob_whitened(
            self._whiten(x, torch.tensor([iq], device=self.device)),
            torch.tensor([iq], device=self.device),
        )[0]
        jac = self._log_jacobian(torch.tensor([ip, iq], device=self.device))
        return float((log_p - jac[0] - (log_q - jac[1])).mean())

    def kl_to_all(
        self,
        g_p: Any,
        num_samples: int = 10_000,
        seed: int | None = None,
        per_state: bool = False,
    ) -> np.ndarray:
        """Eq. 4 from one group to every fitted group: (G,) KL(p(x | D_p) || p(x | D_q)).

        One set of samples from ``g_p`` serves every ``q`` (common random numbers), so a full
        between-class KL matrix costs G sampling passes instead of G^2; entry ``g_p`` is 0.
        """
        if not per_state:
            return self.kl_to_all_by_averaging(g_p, num_samples, seed)[self.state_averaging]
        ip = self.group_index(g_p)
        y, log_p = self._kl_terms(ip, num_samples, seed, per_state)
        x = self._unwhiten(y, ip)
        log_p = log_p - self._log_jacobian(torch.tensor([ip], device=self.device))[0]
        kl = (log_p.unsqueeze(-1) - self.log_prob_all(x)).mean(0).cpu().numpy()
        kl[ip] = 0.0
        return np.asarray(kl, dtype=np.float64)

    def kl_to_all_by_averaging(self, g_p: Any, num_samples: int = 10_000,
                               seed: int | None = None,
                               targets: Sequence[Any] | None = None) -> dict[str, np.ndarray]:
        """:meth:`kl_to_all` under each state averaging (:data:`AVERAGINGS`) from one set of
        draws (they depend on the predictive's weights only) and one pass of per-state
        densities: ``out[a]`` equals ``self.with_predictive(self.predictive,
        a).kl_to_all(g_p, num_samples, seed)``, at half the cost of two calls. ``targets``:
        only the KLs to these groups, in their order (each entry is computed from the same
        draws whatever the others, so it is the full row's entry at a fraction of the cost)."""
        ip = self.group_index(g_p)
        y, _ = self._sample_whitened(num_samples, ip, self._generator(seed))
        own = torch.tensor([ip], device=self.device)
        lp_own = self._log_prob_states(y.unsqueeze(0), own)  # (T, 1, M)
        which = (list(range(len(self.groups))) if targets is None
                 else [self.group_index(g) for g in targets])
        gidx = torch.tensor(which, dtype=torch.long, device=self.device)
        lp_q = self._log_prob_states(self._whiten(self._unwhiten(y, ip), gidx), gidx)
        jac_p = self._log_jacobian(own)[0]
        jac_q = self._log_jacobian(gidx).unsqueeze(-1)
        self_column = np.array(which) == ip
        out = {}
        for a in AVERAGINGS:
            reader = self.with_predictive(self.predictive, a)
            log_p = reader.average_states(lp_own)[0] - jac_p
            log_q = reader.average_states(lp_q) - jac_q  # (targets, M)
            kl = np.asarray((log_p.unsqueeze(0) - log_q).mean(1).cpu().numpy(),
                            dtype=np.float64)
            kl[self_column] = 0.0
            out[a] = kl
        return out

    def _default_group(self, group: Any) -> int:
        if group is None:
            if len(self.groups) != 1:
                raise ValueError(f"group is required: {len(self.groups)} groups were fitted")
            return 0
        return self.group_index(group)
