"""Scheduling and fixtures shared by the claim modules (options, the scenario and
``record_claim`` come from the modes pytest plugin: modes.pytest_plugin, modes.pytest_verdicts).
This conftest activates the plugin for the runs that collect the claims
(:func:`modes.pytest_plugin.activate`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from modes.evidence import assert_replicated, inconclusive
from modes.pytest_plugin import activate
from modes.pytest_verdicts import Record
from modes.scenario import MissingComponentError
from modes.stats.claim import Preregistration

# Claims that share expensive artifacts, by module: each module's tests get that ``xdist_group``
# mark, and ``-n auto`` runs them with xdist's ``loadgroup`` scheduling, so each group runs on one
# worker and workers compute different artifacts in parallel instead of waiting on each other's
# store locks. Groups are handed out in :data:`GROUP_ORDER`, not reordered by test count. C8 and
# C9 read the memorization scores, so they run after C5-C7 on the worker that computes them: in
# the resnet group they waited for them (smoke, cold, 2 workers: the ResNet worker finished C1-C4
# at about 140 s and sat in C8 until the scores were stored at 264 s). Smoke seconds per
# artifact, measured cold (2026-12-04, the smoke profile as shipped): memorization 112, density
# bins 68, C8's KLs 31, C9's classifier 18; ResNet training 31 and its 8 layer fits 67; a
# transformer's training 19-35 and its 8 layer fits 71-80; the plain CNN's training 14 and its
# 16 layer fits 142.
ARTIFACT_GROUPS: dict[str, str] = {
    "test_c05_memorization_jump.py": "memorization",  # trains the ensemble and the bin models
    "test_c06_fscore_tracks_memorization.py": "memorization",
    "test_c07_robustness_drop.py": "memorization",
    "test_c08_where_classes_fit.py": "memorization",  # ResNet fits of its own, and the scores
    "test_c09_generative_classifier.py": "memorization",
    "test_c01_two_modes_deep.py": "resnet",  # ResNet densities and their matched nulls
    "test_c02_no_modes_shallow.py": "resnet",
    "test_c04_not_compact_but_complex.py": "resnet",
    "test_c10_transformers.py": "transformers",
    "test_c03_plain_cnn_uniform.py": "plain-cnn",  # its own backbone and densities
    "test_controls.py": "controls",  # one group per claim: _split_controls
}
# the xdist workerinput key that tells a worker the controller schedules by group
WORKER_LOADGROUP = "modes_loadgroup"
_ORDER = list(ARTIFACT_GROUPS)


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0].rsplit("/", 1)[-1]


def pytest_configure(config: pytest.Config) -> None:
    """These are the plugin's claims: activate it (report header, validated profile, torch
    threads shared among xdist workers). ``-n`` without ``--dist`` means xdist's ``load``: use
    ``loadgroup`` in our order instead (an explicit ``--dist`` is kept)."""
    activate(config)
    config.addinivalue_line("markers", "xdist_group(name): the claim's artifact group")
    if getattr(config.option, "dist", None) == "load":  # xdist may be absent or disabled
        config.option.dist = "loadgroup"
        config.option.loadscopereorder = False
    worker = getattr(config, "workerinput", None)
    if worker is not None and worker.get(WORKER_LOADGROUP):
        # a worker parses the command line itself (``-n`` alone: dist "no"), so it would not
        # suffix node ids with their group and the controller would schedule test by test
        config.option.loadgroup = True


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell an xdist worker that the controller schedules by group."""
    node.workerinput[WORKER_LOADGROUP] = node.config.getvalue("dist") == "loadgroup"


def _split_controls(group: str, item: pytest.Item) -> str:
    """The controls run as one group per claim (``controls-C6``): they share no artifact across
    claims (a claim's controls share its cached power simulations), and as one group they were
    the last ~150 s of a smoke run on one worker while the other sat idle."""
    if group != "controls":
        return group
    claim = item.name.partition("[")[2].split("-", 1)[0]
    return f"controls-{claim}" if claim else group


# The order groups are handed out in. xdist's loadgroup gives a worker its next group as soon as
# it has at most two tests pending, so the ResNet worker takes the third and the fourth group
# within seconds of finishing C1 (~150 s in), and the memorization worker the fifth once C7 is done
# (~210 s), with C8 and C9 still to run. Measured cold (smoke, 2 workers, group seconds, before
# the sampler was sized down): memorization ~280, resnet ~157, transformers ~230, plain-cnn ~185,
# controls ~120 (C10's 62). With plain-cnn third, one worker ran resnet + transformers +
# plain-cnn (~590 s) while the other finished memorization and every control by ~400 s and sat
# idle; this order gives the transformers and C10's controls to the ResNet worker and plain-cnn
# to the memorization worker (both workers busy to the end: 190% CPU). As shipped: memorization
# ~235, resnet ~110, transformers ~216, plain-cnn ~158.
GROUP_ORDER = ("memorization", "resnet", "transformers", "controls-C10", "plain-cnn")


def _rank(group: str | None) -> int:
    """Where group ``group`` runs: :data:`GROUP_ORDER`, then the other controls, then unknown
    modules (each its own group)."""
    if group in GROUP_ORDER:
        return GROUP_ORDER.index(group)
    return len(GROUP_ORDER) + (0 if group is not None and group.startswith("controls") else 1)


@pytest.hookimpl(tryfirst=True)  # before xdist's worker appends the group to each node id
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each claim with its artifact group and run the groups in :data:`GROUP_ORDER`
    (tests within a group, and the other controls, in :data:`ARTIFACT_GROUPS` module order)."""
    groups: dict[str, str | None] = {}
    for item in items:
        group = ARTIFACT_GROUPS.get(_module(item.nodeid))
        if group is not None:
            group = _split_controls(group, item)
            item.add_marker(pytest.mark.xdist_group(group))
        groups[item.nodeid] = group
    items.sort(key=lambda item: (
        _rank(groups[item.nodeid]),
        _ORDER.index(m) if (m := _module(item.nodeid)) in _ORDER else len(_ORDER)))


@pytest.fixture
def requires(record_claim: Record) -> Callable[[Preregistration], AbstractContextManager[None]]:
    """``with requires(PREREG): ...`` turns a component the scenario lacks into an inconclusive
    record that says which component is missing (and an INCONCLUSIVE test)."""

    @contextmanager
    def guard(prereg: Preregistration) -> Iterator[None]:
        try:
            yield
        except MissingComponentError as err:
            assert_replicated(record_claim(inconclusive(
                prereg, 0, f"needs a component this scenario lacks: {err}")))

    return guard
