"""One run id per pytest session: made by the controller (or given), the same on every xdist
worker, new in the next session."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

WRITES_RUN_ID = '''
import os
from pathlib import Path


def test_{name}(modes_run_id):
    Path("{name}.txt").write_text(modes_run_id)
    Path("{name}.worker").write_text(os.environ.get("PYTEST_XDIST_WORKER", ""))
'''


def _ids(path: Path, *names: str) -> set[str]:
    return {(path / f"{name}.txt").read_text() for name in names}


def test_xdist_workers_get_the_controllers_run_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=WRITES_RUN_ID.format(name="a"),
                        test_b=WRITES_RUN_ID.format(name="b"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--dist",
                                           "loadfile")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    ids = _ids(pytester.path, "a", "b")
    assert len(ids) == 1 and "" not in ids
    workers = {(pytester.path / f"{name}.worker").read_text() for name in "ab"}
    assert workers == {"gw0", "gw1"}


def test_each_session_makes_a_new_run_id_unless_given(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=WRITES_RUN_ID.format(name="a"))
    assert pytester.runpytest("-p", "no:xdist").ret == pytest.ExitCode.OK
    first = (pytester.path / "a.txt").read_text()
    assert pytester.runpytest("-p", "no:xdist").ret == pytest.ExitCode.OK
    second = (pytester.path / "a.txt").read_text()
    assert first and second and first != second
    assert pytester.runpytest("-p", "no:xdist", "--modes-run-id", "run-7").ret == pytest.ExitCode.OK
    assert (pytester.path / "a.txt").read_text() == "run-7"
