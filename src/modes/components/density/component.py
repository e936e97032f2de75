"""The DP-GMM as the registered density model ``"dpgmm"``: its config and the protocol
(:class:`modes.components.protocols.DensityModel`) around the sampler.

The config holds everything that is the DP-GMM's own: the sampler's settings
(:class:`.model.DPGMMConfig`, from the profile's ``density`` section and the measurement's prior),
how the chains are read (the Eq. 3 ``predictive`` variant; ``read_chain``: one chain, as the paper
ran, or all pooled) and the device. Another density model has its own config and never sees these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol

import attrs
import numpy as np

from modes.components.protocols import DensityContext, StateLogDensities
from modes.registry import Component, register_component

from .class_diagnostics import small_component_fraction
from .fitted import PREDICTIVES, FittedDPGMM
from .model import CHECKPOINT_VERSION, DPGMM, DPGMMConfig, build_dpgmm
from .readings import Reading, Readout, by_predictive

if TYPE_CHECKING:
    from modes.measures import DensityMeasure

PAPER_START: Final = "random"  # chain 0: the paper's K0 = 6 random start
DISPERSED_STARTS: Final = ("random", "one", "kmeans", "random")


@attrs.frozen
class DPGMMDensityConfig:
    """The DP-GMM density model's settings: sampler, reading, device."""

    sampler: DPGMMConfig = attrs.field(factory=DPGMMConfig)
    predictive: str = attrs.field(default="paper", validator=attrs.validators.in_(PREDICTIVES))
    read_chain: int | None = None  # Eq. 3 from this chain alone; None: every chain pooled
    device: str = "cpu"


@attrs.frozen
class DPGMMDensity:
    """:class:`.model.DPGMM` behind the density-model protocol."""

    config: DPGMMDensityConfig = attrs.field(factory=DPGMMDensityConfig)

    def fit(self, x: np.ndarray, groups: np.ndarray) -> FittedDPGMMDensity:
        sampler = DPGMM(config=self.config.sampler, device=self.config.device, progress=False)
        fitted = sampler.fit(x, groups, warn=False).with_predictive(self.config.predictive)
        return FittedDPGMMDensity(fitted, self.config.read_chain)


@attrs.frozen(eq=False)
class FittedDPGMMDensity:
    """A fitted DP-GMM read as its config says: Eq. 3 and Eq. 4 from ``read_chain`` (or all
    chains); the convergence states and collapsed fractions always from every chain."""

    fitted: FittedDPGMM
    read_chain: int | None = None

    @property
    def reader(self) -> FittedDPGMM:
        return self.fitted if self.read_chain is None else self.fitted.chain(self.read_chain)

    @property
    def groups(self) -> np.ndarray:
        return self.fitted.groups

    def log_prob_own(self, x: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return np.asarray(self.reader.log_prob_own(x, groups).cpu().numpy())

    def state_log_prob_own(self, x: np.ndarray, groups: np.ndarray) -> StateLogDensities:
        states = self.fitted.log_prob_own_states(x, groups).cpu().numpy()
        return StateLogDensities(states=np.asarray(states), chains=self.fitted.chains)

    def collapsed_fraction(self) -> np.ndarray:
        f = self.fitted
        return small_component_fraction(f.states.counts, f.dim, f.nu0)

    def relative_entropy(self, group: int, num_samples: int, seed: int) -> float:
        return self.reader.relative_entropy(group=group, num_samples=num_samples, seed=seed)

    def kl_to_all(self, group: int, num_samples: int, seed: int | None = None) -> np.ndarray:
        return self.reader.kl_to_all(group, num_samples=num_samples, seed=seed)

    def classify(self, x: np.ndarray) -> np.ndarray:
        return self.reader.classify(x)

    def read_all(self, x: np.ndarray, groups: np.ndarray, readings: Sequence[Reading],
                 rel_groups: Sequence[int], kl_samples: int,
                 seeds: Sequence[int]) -> dict[str, Readout]:
        """Every reading from the same kept states (:mod:`.readings`); per predictive variant the
        per-state densities and Eq. 4's draws are computed once and averaged both ways."""
        out = {}
        for predictive, averagings in by_predictive(readings).items():
            reader = self._reader(predictive)
            per_state = reader.log_prob_own_states(x, groups)
            rels = [reader.relative_entropy_by_averaging(group=int(g), num_samples=kl_samples,
                                                         seed=int(s))
                    for g, s in zip(rel_groups, seeds, strict=True)]
            for averaging in averagings:
                own = reader.with_predictive(predictive, averaging)
                out[Reading(predictive, averaging).key] = Readout(
                    log_density=np.asarray(own.average_states(per_state).cpu().numpy()),
                    relative_entropy=np.array([r[averaging] for r in rels]))
        return out

    def read_kl_to_all(self, group: int, readings: Sequence[Reading], num_samples: int,
                       seed: int | None = None,
                       targets: Sequence[int] | None = None) -> dict[str, np.ndarray]:
        """:meth:`kl_to_all` under each reading (keyed by :attr:`Reading.key`), one set of
        draws and one pass of per-state densities per predictive variant; ``targets``: only
        the KLs to these groups, in their order."""
        out: dict[str, np.ndarray] = {}
        for predictive, averagings in by_predictive(readings).items():
            reader = self._reader(predictive)
            rows = reader.kl_to_all_by_averaging(group, num_samples=num_samples, seed=seed,
                                                 targets=targets)
            out |= {Reading(predictive, a).key: rows[a] for a in averagings}
        return out

    def read_classify(self, x: np.ndarray, readings: Sequence[Reading]) -> dict[str, np.ndarray]:
        """:meth:`classify` under each reading (keyed by :attr:`Reading.key`), one pass of
        per-state densities per predictive variant."""
        out: dict[str, np.ndarray] = {}
        for predictive, averagings in by_predictive(readings).items():
            labels = self._reader(predictive).classify_by_averaging(x)
            out |= {Reading(predictive, a).key: labels[a] for a in averagings}
        return out

    def _reader(self, predictive: str) -> FittedDPGMM:
        fitted = self.fitted.with_predictive(predictive)
        return fitted if self.read_chain is None else fitted.chain(self.read_chain)


class SamplerSizes(Protocol):
    """The sampler sizes that the profile's ``density`` section and ``SamplerSettings`` hold."""

    @property
    def sweeps(self) -> int: ...

    @property
    def burn_in(self) -> int: ...

    @property
    def thin(self) -> int: ...

    @property
    def block_size(self) -> int: ...

    @property
    def init_components(self) -> int: ...

    @property
    def chains(self) -> int: ...

    @property
    def dtype(self) -> str: ...

    @property
    def split_merge(self) -> int: ...


def dpgmm_config(sizes: SamplerSizes, measure: DensityMeasure, seed: int,
                 block_update: str | None = None, device: str = "cpu") -> DPGMMDensityConfig:
    """The DP-GMM for ``measure``: the sampler's sizes, the measurement's prior and reading,
    dispersed starts when several chains run (the paper's K0 random start alone otherwise), and
    the split-merge moves where the measurement runs them (the checked one; the paper's: none)."""
    dispersed = sizes.chains > 1 and measure.dispersed
    sampler = DPGMMConfig(
        sweeps=sizes.sweeps, burn_in=sizes.burn_in, thin=sizes.thin, block_size=sizes.block_size,
        init_components=sizes.init_components, chains=sizes.chains, seed=seed, dtype=sizes.dtype,
        prior=measure.prior,
        starts=DISPERSED_STARTS[:sizes.chains] if dispersed else (PAPER_START,),
        block_update=block_update or "metropolis",
        split_merge=sizes.split_merge if measure.split_merge else 0)
    return DPGMMDensityConfig(sampler=sampler, predictive=measure.predictive,
                              read_chain=0 if measure.first_chain_only else None, device=device)


def configure_dpgmm(context: DensityContext) -> DPGMMDensityConfig:
    """The registry's configuration: :func:`dpgmm_config` from the profile's ``density`` section."""
    return dpgmm_config(context.density, context.measure, context.seed, context.block_update,
                        context.device)


COMPONENT: Final = register_component(Component(
    "density", "dpgmm", DPGMMDensity, config=DPGMMDensityConfig, version=CHECKPOINT_VERSION,
    configure=configure_dpgmm, constructor=build_dpgmm))
