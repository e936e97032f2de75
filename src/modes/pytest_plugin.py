"""pytest plugin: options, the session scenario and the session's run id.

Options are declared once here; state is carried by fixtures and ``config.stash``. Every session
has one run id, made by the controller (or given with ``--run-id``) and handed to each xdist worker
in its ``workerinput``; the claims' records carry it, so that only one session's claims form a
family. Recording claims and turning their verdicts into pytest's outcome, the terminal's verdict
table and the report is :mod:`modes.pytest_verdicts`' part.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modes.scenario import Scenario, ScenarioConfig

pytest_plugins = ["modes.pytest_verdicts"]

RUN_ID = pytest.StashKey[str]()
WORKER_RUN_ID = "modes_run_id"  # the key of the run id in an xdist worker's workerinput

_DEFAULTS: dict[str, tuple[str | None, str]] = {
    "scale": ("smoke", "scale profile: smoke (CPU, minutes, embedded data) or full (paper)"),
    "dataset": ("synthetic", "dataset component: synthetic, cifar100, mini-imagenet"),
    "backbone": ("resnet18", "residual backbone under test (resnet18, resnet50, or a plug-in)"),
    "control-backbone": ("plain_cnn", "non-residual control backbone (claim C3)"),
    "transformers": ("vit,mixer", "comma-separated backbones for claim C10"),
    "reducer": ("svd", "reducer component"),
    "density": ("dpgmm", "density-model component"),
    "memorization": ("subsampled", "memorization estimator: subsampled or published"),
    "mem-scores": (None, "published memorization file (mem_scores.npz / cifar100_infl_matrix.npz)"),
    "certifier": ("randomized-smoothing", "certifier component"),
    "pretrained": (None, "pretrained transformer weights to fine-tune, NAME=PATH[,NAME=PATH] "
                         "(local torch / timm state dicts, e.g. vit=vit_b16_sam.pth; "
                         "default: trained from scratch)"),
    "noise-space": (None, "where smoothing noise is added for training and CERTIFY: normalized "
                          "(the authors') or pixel (Cohen et al.) (default: the scale's)"),
    "data-root": (None, "dataset root (or MODES_DATA)"),
    "cache-dir": (None, "artifact store directory (or MODES_CACHE; default .modes-cache)"),
    "reports-dir": ("reports", "where JSON records, summary.md, index.html and figures go"),
    "seed": ("0", "master seed"),
    "family-alpha": (None, "family-wise alpha for Holm correction (default: the scale's, 0.01)"),
    "run-id": (None, "id stamped on this session's claim records; only records of one run form a "
                     "family (default: a new one per session)"),
    "device": ("cpu", "torch device for training and density sampling (cpu, cuda)"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modes", "modes: re-derive the paper's findings")
    for name, (default, help_text) in _DEFAULTS.items():
        group.addoption(f"--{name}", default=default, help=f"{help_text} [default: {default}]")
    group.addoption("--download", action="store_true", help="download datasets that are missing")


def scenario_config(config: pytest.Config) -> ScenarioConfig:
    """The ScenarioConfig described by the command-line options."""
    from modes.scenario import ScenarioConfig, parse_pretrained

    def opt(name: str) -> Any:
        return config.getoption(name.replace("-", "_"))

    data_root = opt("data-root") or os.environ.get("MODES_DATA")
    return ScenarioConfig(
        scale=opt("scale"),
        dataset=opt("dataset"),
        backbone=opt("backbone"),
        control_backbone=opt("control-backbone"),
        transformers=tuple(b for b in opt("transformers").split(",") if b),
        reducer=opt("reducer"),
        density=opt("density"),
        memorization=opt("memorization"),
        mem_scores=opt("mem-scores"),
        certifier=opt("certifier"),
        data_root=data_root,
        download=bool(opt("download")),
        seed=int(opt("seed")),
        device=opt("device"),
        overrides=(f"robustness.noise_space={opt('noise-space')}",) if opt("noise-space") else (),
        pretrained=parse_pretrained(opt("pretrained")),
    )


def reports_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("reports_dir"))


@pytest.fixture(scope="session")
def modes_scenario(pytestconfig: pytest.Config) -> Scenario:
    """The session's scenario: data, components and cached pipeline stages, built lazily."""
    from modes.scenario import Scenario
    from modes.store import ArtifactStore, default_root

    cache = pytestconfig.getoption("cache_dir")
    store = ArtifactStore(Path(cache) if cache else default_root())
    return Scenario(scenario_config(pytestconfig), store)


@pytest.fixture(scope="session")
def modes_reports_dir(pytestconfig: pytest.Config) -> Path:
    path = reports_dir(pytestconfig)
    (path / "records").mkdir(parents=True, exist_ok=True)
    (path / "figures").mkdir(parents=True, exist_ok=True)
    return path


def family_alpha_of(config: pytest.Config) -> float:
    """``--family-alpha``, or the scale profile's family-wise alpha."""
    from modes.scale import load_profile

    given = config.getoption("family_alpha")
    scale = load_profile(config.getoption("scale"))
    return float(given) if given is not None else scale.family_alpha


@pytest.fixture(scope="session")
def family_alpha(pytestconfig: pytest.Config) -> float:
    return family_alpha_of(pytestconfig)


def new_run_id() -> str:
    """A fresh run id: the local start time, sortable, and a random suffix."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def modes_run_id(pytestconfig: pytest.Config) -> str:
    """This session's run id (the same on the controller and every xdist worker)."""
    return pytestconfig.stash[RUN_ID]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id): a paper claim re-derived as a statistical test")
    worker = getattr(config, "workerinput", None)
    if worker is None:
        config.stash[RUN_ID] = config.getoption("run_id") or new_run_id()
        return
    config.stash[RUN_ID] = str(worker[WORKER_RUN_ID])
    import torch  # share the cores among xdist workers instead of oversubscribing them

    workers = int(worker.get("workercount", 1))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the controller's run id to an xdist worker before it starts."""
    node.workerinput[WORKER_RUN_ID] = node.config.stash[RUN_ID]
