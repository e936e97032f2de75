"""pytest plugin: options, the session scenario and the session's run id.

Options are declared once here (:data:`OPTIONS`), all prefixed ``--modes-`` so that they cannot
collide with another plugin's (no unprefixed aliases: ``--seed``, ``--device`` or ``--cache-dir``
belong to nobody in particular); each is typed, and checked where it is parsed. State is carried by
fixtures and ``config.stash``. Every session has one run id, made by the controller (or given with
``--modes-run-id``) and handed to each xdist worker in its ``workerinput``; xdist workers parse
the controller's command line, so they get the same options. Recording claims and turning their
verdicts into pytest's outcome, the terminal's verdict table and the report is
:mod:`modes.pytest_verdicts`' part; each density claim's row of the sensitivity table is
:mod:`modes.pytest_sensitivity`'s (refitting choices with ``--modes-sensitivity``).

The plugin is installed for every pytest run in the environment, but acts only in runs that use
it: a run is *active* when a conftest calls :func:`activate` (``claims/conftest.py`` does) or a
``--modes-*`` option is given. Only an active run validates the scale profile and its overrides up
front (a bad ``--modes-set`` is a usage error), prints the report header, and on each xdist worker
sets torch's thread count to its share of the cores. Any other run gets the options, the fixtures
(which cost nothing until a test requests them), the ``claim`` marker and a listener of
:mod:`modes.pytest_verdicts` that stays idle unless a claim test reports; nothing else.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from modes.scale import Override, ProfileError, profile_names

if TYPE_CHECKING:
    from modes.scenario import Scenario, ScenarioConfig

pytest_plugins = ["modes.pytest_verdicts", "modes.pytest_sensitivity"]

RUN_ID = pytest.StashKey[str]()
ACTIVE = pytest.StashKey[bool]()
SCENARIO_CONFIG = pytest.StashKey["ScenarioConfig"]()
WORKER_RUN_ID = "modes_run_id"  # the key of the run id in an xdist worker's workerinput


# -- option types: each turns the text into the value or raises argparse's type error ------------

def override(text: str) -> str:
    """``SECTION.KEY=VALUE`` (its syntax; whether the key exists is checked against the profile
    once the run is configured)."""
    try:
        Override.parse(text)
    except ProfileError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def names(text: str) -> tuple[str, ...]:
    """``"vit,mixer"`` -> ``("vit", "mixer")``."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


def alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def device(text: str) -> str:
    """A torch device string: ``cpu``, ``cuda``, ``cuda:1``, ``mps``."""
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"must be cpu, cuda, cuda:N or mps, got {text!r}")
    return text


@attrs.frozen
class Option:
    """One ``--modes-NAME`` option (its ``dest`` is ``modes_NAME`` with underscores)."""

    name: str
    help: str
    default: Any = None
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    action: str | None = None
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return f"--modes-{self.name}"

    @property
    def dest(self) -> str:
        return "modes_" + self.name.replace("-", "_")

    def add_to(self, group: pytest.OptionGroup) -> None:
        kwargs = {k: v for k, v in attrs.asdict(self).items()
                  if k in ("type", "choices", "action", "metavar") and v is not None}
        shown = ",".join(self.default) if isinstance(self.default, tuple) else self.default
        default = "" if self.action in ("store_true", "append") else f" [default: {shown}]"
        group.addoption(self.flag, dest=self.dest, default=self.default,
                        help=self.help + default, **kwargs)


OPTIONS: tuple[Option, ...] = (
    Option("scale", "scale profile, src/modes/profiles/NAME.toml: smoke (CPU, minutes, embedded "
           "data), lab (8-core CPU, about an hour), full (the paper's, GPU); `modes profiles` "
           "prints them", "smoke", choices=tuple(profile_names())),
    Option("set", "change one knob of the scale profile, e.g. density.sweeps=100 or "
           "robustness.noise_space=pixel, or one setting of a density or memorization "
           "component's config, component.KIND.NAME.FIELD=VALUE, e.g. "
           "component.density.pca_bgm.components=5 (repeatable, a later one wins; checked "
           "against the profile or the component's config type, recorded in every claim "
           "record)", [], type=override, action="append",
           metavar="SECTION.KEY=VALUE"),
    Option("dataset", "dataset component: synthetic, cifar100, mini-imagenet or a plug-in "
           "(`modes components`)", "synthetic", metavar="NAME"),
    Option("backbone", "residual backbone under test (resnet18, resnet50, or a plug-in)",
           "resnet18", metavar="NAME"),
    Option("control-backbone", "non-residual control backbone (claim C3)", "plain_cnn",
           metavar="NAME"),
    Option("transformers", "comma-separated backbones for claim C10", ("vit", "mixer"),
           type=names, metavar="NAME,NAME"),
    Option("tap", "feature-tap component (representations of the tapped layers)", "graph",
           metavar="NAME"),
    Option("reducer", "reducer component", "svd", metavar="NAME"),
    Option("density", "density-model component", "dpgmm", metavar="NAME"),
    Option("memorization", "memorization estimator: subsampled, published or none",
           "subsampled", metavar="NAME"),
    Option("mem-scores", "published memorization file (mem_scores.npz / "
           "cifar100_infl_matrix.npz)", metavar="PATH"),
    Option("certifier", "certifier component", "randomized-smoothing", metavar="NAME"),
    Option("pretrained", "pretrained transformer weights to fine-tune, NAME=PATH[,NAME=PATH] "
           "(local torch / timm state dicts, e.g. vit=vit_b16_sam.pth; default: trained from "
           "scratch)", metavar="NAME=PATH"),
    Option("representations", "representations file (.npz: labels, stage_1 ... stage_L, "
           "optional memorization) read in place of data, training and taps; claims that need "
           "more are inconclusive", metavar="FILE"),
    Option("authors-files", "the paper authors' files/ folder (dkls/, "
           "generative_classification/, optional memorization/<arch>/<dataset>/mem_scores.npz): "
           "published scores, Fig. 4 splits and Fig. A.11 held-out lists for --modes-backbone "
           "(resnet18, resnet50) and --modes-dataset (cifar100, mini-imagenet)", metavar="DIR"),
    Option("data-root", "dataset root (or MODES_DATA)", metavar="DIR"),
    Option("download", "download datasets that are missing", False, action="store_true"),
    Option("cache-dir", "artifact store directory (or MODES_CACHE; default .modes-cache)",
           metavar="DIR"),
    Option("reports-dir", "where JSON records, summary.md, index.html and figures go",
           "reports", metavar="DIR"),
    Option("seed", "master seed", 0, type=int, metavar="N"),
    Option("family-alpha", "family-wise alpha of Holm's correction across the run's claims "
           "(default: the scale profile's, 0.01)", type=alpha, metavar="ALPHA"),
    Option("run-id", "id stamped on this session's claim records; only records of one run form "
           "a family (default: a new one per session)", metavar="ID"),
    Option("device", "torch device for training and density sampling", "cpu", type=device,
           metavar="DEVICE"),
    Option("sensitivity", "the sensitivity table with every analytic choice: also the "
           "refitting ones (block_update=independent, svd_centre=True, noise_space=pixel: new "
           "chains or noise models per choice); without it only the predictive and averaging "
           "choices, which re-read the default run's chains (modes.sensitivity)", False,
           action="store_true"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modes", "modes: re-derive the paper's findings")
    for option in OPTIONS:
        option.add_to(group)


def option(config: pytest.Config, name: str) -> Any:
    """The value of ``--modes-NAME``."""
    return config.getoption("modes_" + name.replace("-", "_"))


def given_options(config: pytest.Config) -> list[str]:
    """The ``--modes-*`` options this run sets to other than their defaults."""
    return [o.flag for o in OPTIONS if config.getoption(o.dest) != o.default]


# -- activation ---------------------------------------------------------------------------------

def activate(config: pytest.Config) -> None:
    """Make this run one of the plugin's (module docstring): validate the scenario's options, the
    scale profile and its overrides (a usage error otherwise), and on an xdist worker give torch
    its share of the cores instead of letting every worker use them all. Idempotent."""
    if config.stash.get(ACTIVE, False):
        return
    config.stash[ACTIVE] = True
    try:
        scenario_config(config)
    except ValueError as err:
        raise pytest.UsageError(f"modes: {err}") from None
    share_cores(config)


def share_cores(config: pytest.Config) -> None:
    """On an xdist worker, torch's thread count is the worker's share of the cores (all of them
    would oversubscribe the CPU); elsewhere nothing changes."""
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        import torch

        workers = int(worker.get("workercount", 1))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def is_active(config: pytest.Config) -> bool:
    return config.stash.get(ACTIVE, False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id): a paper claim re-derived as a statistical test")
    if given_options(config):
        activate(config)


# -- the session's scenario ---------------------------------------------------------------------

def scenario_config(config: pytest.Config) -> ScenarioConfig:
    """The ScenarioConfig the ``--modes-*`` options describe (made once per session, in the
    stash); the overrides are validated against the profile and written canonically."""
    if SCENARIO_CONFIG in config.stash:
        return config.stash[SCENARIO_CONFIG]
    from modes.scale import canonical_overrides
    from modes.scenario import ScenarioConfig, parse_pretrained

    scale = option(config, "scale")
    made = ScenarioConfig(
        scale=scale,
        overrides=canonical_overrides(scale, option(config, "set")),
        dataset=option(config, "dataset"),
        backbone=option(config, "backbone"),
        control_backbone=option(config, "control-backbone"),
        transformers=option(config, "transformers"),
        tap=option(config, "tap"),
        reducer=option(config, "reducer"),
        density=option(config, "density"),
        memorization=option(config, "memorization"),
        mem_scores=option(config, "mem-scores"),
        certifier=option(config, "certifier"),
        data_root=option(config, "data-root") or os.environ.get("MODES_DATA"),
        download=bool(option(config, "download")),
        seed=option(config, "seed"),
        device=option(config, "device"),
        pretrained=parse_pretrained(option(config, "pretrained")),
        representations=option(config, "representations"),
        authors_files=option(config, "authors-files"),
    )
    config.stash[SCENARIO_CONFIG] = made
    return made


def reports_dir(config: pytest.Config) -> Path:
    return Path(option(config, "reports-dir"))


def cache_dir(config: pytest.Config) -> Path:
    from modes.store import default_root

    given = option(config, "cache-dir")
    return Path(given) if given else default_root()


@pytest.fixture(scope="session")
def modes_scenario(pytestconfig: pytest.Config) -> Scenario:
    """The session's scenario: data, components and cached pipeline stages, built lazily."""
    from modes.scenario import Scenario
    from modes.store import ArtifactStore

    return Scenario(scenario_config(pytestconfig), ArtifactStore(cache_dir(pytestconfig)))


@pytest.fixture(scope="session")
def modes_reports_dir(pytestconfig: pytest.Config) -> Path:
    path = reports_dir(pytestconfig)
    (path / "records").mkdir(parents=True, exist_ok=True)
    (path / "figures").mkdir(parents=True, exist_ok=True)
    return path


def family_alpha_of(config: pytest.Config) -> float:
    """``--modes-family-alpha``, or the scale profile's family-wise alpha (overrides applied)."""
    from modes.scale import load_profile

    given = option(config, "family-alpha")
    if given is not None:
        return float(given)
    cfg = scenario_config(config)
    return load_profile(cfg.scale, cfg.overrides).family_alpha


# -- the run id ---------------------------------------------------------------------------------

def new_run_id() -> str:
    """A fresh run id: the local start time, sortable, and a random suffix."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def run_id_of(config: pytest.Config) -> str:
    """This session's run id: on an xdist worker the controller's, on the controller the given
    one or a new one (made on first use)."""
    if RUN_ID not in config.stash:
        worker = getattr(config, "workerinput", None)
        config.stash[RUN_ID] = (str(worker[WORKER_RUN_ID]) if worker is not None
                                else option(config, "run-id") or new_run_id())
    return config.stash[RUN_ID]


@pytest.fixture(scope="session")
def modes_run_id(pytestconfig: pytest.Config) -> str:
    """This session's run id (the same on the controller and every xdist worker)."""
    return run_id_of(pytestconfig)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the controller's run id to an xdist worker before it starts."""
    node.workerinput[WORKER_RUN_ID] = run_id_of(node.config)


# -- what the run is ----------------------------------------------------------------------------

def header_lines(config: pytest.Config) -> list[str]:
    """What an active run runs: scale, overrides, data, components, where its files go."""
    cfg = scenario_config(config)
    components = {**cfg.components(), "control_backbone": cfg.control_backbone,
                  "transformers": ",".join(cfg.transformers)}
    return [
        f"modes: scale {cfg.scale}, overrides: {', '.join(cfg.overrides) or 'none'}",
        f"modes: dataset {cfg.dataset}, seed {cfg.seed}, device {cfg.device}, run "
        f"{run_id_of(config)}",
        "modes: components " + ", ".join(f"{k}={v}" for k, v in components.items()),
        f"modes: cache {cache_dir(config)}, reports {reports_dir(config)}",
    ] + [f"modes: {name} {path}" for name, path in (("representations", cfg.representations),
                                                     ("authors files", cfg.authors_files))
         if path]


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    return header_lines(config) if is_active(config) else None
