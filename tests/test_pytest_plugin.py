"""The pytest plugin's options and activation: prefixed, typed options; overrides validated,
shown in the report header, recorded and handed to xdist workers; the plugin acts only in runs
that use it (header, thread settings)."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

from modes.pytest_plugin import OPTIONS

pytest_plugins = ("pytester",)

# numpy and torch cannot be imported twice in one process: import here what inner sessions import
for _name in ("modes.evidence", "modes.expected", "modes.report.render", "modes.report.runs",
              "modes.report.terminal", "modes.scenario", "modes.stats.multiple", "modes.store"):
    importlib.import_module(_name)

PLAIN_TEST = "def test_plain():\n    pass\n"


@pytest.fixture(autouse=True)
def _no_outer_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", *args)


def test_every_option_is_prefixed_and_the_old_names_are_gone(pytester: pytest.Pytester) -> None:
    assert all(o.flag.startswith("--modes-") for o in OPTIONS)
    assert len({o.flag for o in OPTIONS}) == len(OPTIONS)
    pytester.makepyfile(PLAIN_TEST)
    for old in ("--seed", "--device", "--cache-dir", "--scale", "--backbone"):
        result = _run(pytester, old, "1")
        assert result.ret == pytest.ExitCode.USAGE_ERROR, old
        result.stderr.fnmatch_lines([f"*unrecognized arguments: {old}*"])


@pytest.mark.parametrize(("args", "message"), [
    (("--modes-scale", "huge"), "*--modes-scale: invalid choice: 'huge' (choose from *full*lab*"
                                "smoke*"),
    (("--modes-seed", "one"), "*--modes-seed: invalid int value: 'one'*"),
    (("--modes-family-alpha", "2"), "*--modes-family-alpha: must be a number in (0, 1), got '2'*"),
    (("--modes-device", "gpu"), "*--modes-device: must be cpu, cuda, cuda:N or mps, got 'gpu'*"),
    (("--modes-set", "density.sweeps"), "*--modes-set: an override is SECTION.KEY=VALUE*"),
])
def test_options_are_typed(pytester: pytest.Pytester, args: tuple[str, ...],
                           message: str) -> None:
    pytester.makepyfile(PLAIN_TEST)
    result = _run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(("override", "message"), [
    ("densty.sweeps=100", "*modes: override densty.sweeps=100: unknown section 'densty'*"),
    ("density.sweps=100", "*unknown key 'density.sweps'; keys of density: *'sweeps'*"),
    ("density.sweeps=many", "*density.sweeps must be an integer, got 'many'*"),
    ("density.sweeps=0", "*density.sweeps must be >= 1, got 0*"),
])
def test_a_bad_override_is_a_usage_error_naming_it(pytester: pytest.Pytester, override: str,
                                                   message: str) -> None:
    pytester.makepyfile(PLAIN_TEST)
    result = _run(pytester, "--modes-set", override)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_the_header_says_what_an_active_run_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PLAIN_TEST)
    cache = pytester.path / "cache"
    result = _run(pytester, "--modes-set", "density.sweeps=100", "--modes-set",
                  "robustness.noise_space=pixel", "--modes-set", "train.max_lr=1",
                  "--modes-backbone", "resnet50", f"--modes-cache-dir={cache}",
                  "--modes-run-id", "run-h")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([
        "modes: scale smoke, overrides: density.sweeps=100, robustness.noise_space=pixel, "
        "train.max_lr=1.0",
        "modes: dataset synthetic, seed 0, device cpu, run run-h",
        "modes: components dataset=synthetic, backbone=resnet50, tap=graph, reducer=svd, "
        "density=dpgmm, memorization=subsampled, certifier=randomized-smoothing, "
        "control_backbone=plain_cnn, transformers=vit,mixer",
        f"modes: cache {cache}, reports reports",
    ])


def test_a_conftest_activates_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from modes.pytest_plugin import activate\n\n\n"
                          "def pytest_configure(config):\n    activate(config)\n")
    pytester.makepyfile(PLAIN_TEST)
    _run(pytester).stdout.fnmatch_lines(["modes: scale smoke, overrides: none"])


def test_a_run_that_does_not_use_the_plugin_gets_no_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PLAIN_TEST)
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.OK
    assert "modes:" not in result.stdout.str()


def test_overrides_are_recorded_with_the_claim(pytester: pytest.Pytester) -> None:
    pytester.makepyfile('''
from modes.evidence import assert_replicated
from modes.stats.claim import Preregistration, evaluate


def test_t1(record_claim):
    prereg = Preregistration(claim_id="T1", hypothesis="h", paper_ref="r", test="t",
                             effect_name="e", effect_threshold=1.0, effect_direction="greater")
    assert_replicated(record_claim(evaluate(prereg, statistic=1.0, p_value=1e-6,
                                            effect_size=2.0, ci=(1.5, 2.5), n=10)))
''')
    result = _run(pytester, "--modes-set", "density.sweeps=100", "--modes-set",
                  "density.sweeps=80", "--modes-run-id", "run-o")
    assert result.ret == pytest.ExitCode.OK
    record = json.loads((pytester.path / "reports" / "records" / "T1.json").read_text())
    assert record["scale"] == "smoke" and record["overrides"] == ["density.sweeps=80"]
    summary = (pytester.path / "reports" / "summary.md").read_text()
    assert "smoke [density.sweeps=80]" in summary


WORKER_SEES = '''
import os
from pathlib import Path


def test_{name}(modes_scenario):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    Path(f"{name}-{{worker}}.txt").write_text(
        f"{{modes_scenario.config.overrides}} {{modes_scenario.scale.density.sweeps}}")
'''

RECORD_THREADS = '''
import os
from pathlib import Path

import torch

_set = torch.set_num_threads


def _recording(n):
    Path(f"threads-{os.environ.get('PYTEST_XDIST_WORKER', '')}.txt").write_text(str(n))
    _set(n)


torch.set_num_threads = _recording
'''


def test_xdist_workers_get_the_overrides_and_share_the_cores_only_when_active(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RECORD_THREADS)
    pytester.makepyfile(test_a=WORKER_SEES.format(name="a"), test_b=WORKER_SEES.format(name="b"))
    active = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--dist",
                                           "loadfile", "--modes-set", "density.sweeps=100")
    assert active.ret == pytest.ExitCode.OK, active.stdout.str()
    seen = {p.read_text() for p in pytester.path.glob("[ab]-gw*.txt")}
    assert seen == {"('density.sweeps=100',) 100"}
    threads = {p.name: p.read_text() for p in pytester.path.glob("threads-*.txt")}
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert threads == {"threads-gw0.txt": share, "threads-gw1.txt": share}
    for path in pytester.path.glob("threads-*.txt"):
        path.unlink()
    pytester.makepyfile(test_a=PLAIN_TEST, test_b=PLAIN_TEST)
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    assert plain.ret == pytest.ExitCode.OK, plain.stdout.str()
    assert not list(Path(pytester.path).glob("threads-*.txt"))  # another project's workers
