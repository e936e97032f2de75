"""Packaging metadata: one version, the typed marker shipped, dependencies where they are used."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

import modes
import modes.scale

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name for r in requirements}


def test_version_is_single_sourced() -> None:
    meta = _project()
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "modes.__version__"}
    assert isinstance(modes.__version__, str) and modes.__version__.count(".") == 2


def test_typed_marker_and_license_are_shipped() -> None:
    meta = _project()
    assert (ROOT / "src" / "modes" / "py.typed").is_file()
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["modes"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert meta["project"]["license"] == "MIT"
    assert any(r.startswith("setuptools>=77") for r in meta["build-system"]["requires"])


def test_dependencies_sit_where_they_are_needed() -> None:
    project = _project()["project"]
    extras = project["optional-dependencies"]
    assert "scikit-learn" in _names(project["dependencies"])  # src imports sklearn
    assert {"pytest", "pytest-xdist"} <= _names(extras["claims"]) & _names(extras["test"])
    assert {"ruff", "mypy"} <= _names(extras["dev"])


def test_scale_profiles_are_shipped() -> None:
    meta = _project()
    assert "profiles/*.toml" in meta["tool"]["setuptools"]["package-data"]["modes"]
    assert sorted(p.stem for p in (ROOT / "src" / "modes" / "profiles").glob("*.toml")) == \
        modes.scale.profile_names()


def test_report_templates_are_shipped() -> None:
    """Every template the report loads is matched by the package-data glob, and jinja2, which
    renders them, is a core dependency (``modes report`` runs without extras)."""
    from modes.report import pages

    meta = _project()
    assert "report/templates/*" in meta["tool"]["setuptools"]["package-data"]["modes"]
    shipped = {p.name for p in (ROOT / "src" / "modes" / "report" / "templates").glob("*")}
    assert set(pages.environment().list_templates()) == shipped
    assert {"index.html.j2", "sensitivity.html.j2", "macros.html.j2", "report.css"} <= shipped
    assert "jinja2" in _names(_project()["project"]["dependencies"])
