"""Packaging metadata: one version, the typed marker shipped, dependencies where they are used;
the built wheel and sdist hold the package data and the license."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
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


def _build(tmp_path: Path, hook: str) -> Path:
    """Run setuptools' PEP 517 ``hook`` (build_wheel or build_sdist) on a copy of the project's
    sources (the working tree stays clean of build/ and egg-info) and return the archive."""
    proj = tmp_path / "project"
    proj.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, proj / name)
    shutil.copytree(ROOT / "src", proj / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    dist = tmp_path / "dist"
    code = f"from setuptools import build_meta; print(build_meta.{hook}({str(dist)!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=proj, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dist / done.stdout.strip().splitlines()[-1]


def test_wheel_ships_package_data_license_and_metadata(tmp_path: Path) -> None:
    """The built wheel holds every data file of the package (templates, profiles, expectations,
    py.typed), the LICENSE and metadata naming the license, version and extras; unpacked alone
    on the path, it loads its templates and profiles from itself."""
    wheel = _build(tmp_path, "build_wheel")
    package = ROOT / "src" / "modes"
    data = {p.relative_to(package.parent).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"}}
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = f"modes-{modes.__version__}.dist-info"
        meta = email.parser.Parser().parsestr(z.read(f"{info}/METADATA").decode())
        z.extractall(tmp_path / "installed")
    assert data <= names, sorted(data - names)
    assert {"modes/py.typed", "modes/report/templates/index.html.j2"} <= data
    assert f"{info}/licenses/LICENSE" in names
    assert meta["Version"] == modes.__version__
    assert meta["License-Expression"] == "MIT"
    assert {"claims", "test", "dev"} <= set(meta.get_all("Provides-Extra") or [])
    check = ("import sys; sys.path.insert(0, sys.argv[1]); import modes, modes.scale; "
             "from modes.report import pages; "
             "assert modes.__file__.startswith(sys.argv[1]), modes.__file__; "
             "print(sorted(pages.environment().list_templates())); "
             "print(modes.scale.load_profile('smoke').name)")
    done = subprocess.run([sys.executable, "-c", check, str(tmp_path / "installed")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    templates, profile = done.stdout.strip().splitlines()
    assert templates == str(sorted(p.name for p in (package / "report" / "templates").glob("*")))
    assert profile == "smoke"


def test_sdist_ships_license_and_templates(tmp_path: Path) -> None:
    sdist = _build(tmp_path, "build_sdist")
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"LICENSE", "pyproject.toml", "README.md", "src/modes/py.typed"} <= names
    assert {f"src/modes/report/templates/{p.name}"
            for p in (ROOT / "src" / "modes" / "report" / "templates").glob("*")} <= names
