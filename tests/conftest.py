"""The project's own tests share the cores among xdist workers as the claims do (the modes plugin
does it only for runs that use it, :func:`modes.pytest_plugin.activate`)."""

from __future__ import annotations

import pytest

from modes.pytest_plugin import share_cores


def pytest_configure(config: pytest.Config) -> None:
    share_cores(config)
