"""The wheel carries what the app needs at run time (themes and stylesheets) and
nothing of development: the tools live in a dependency group, not an extra."""

from __future__ import annotations

import email
import importlib.metadata
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import gme_tui

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return Requirement(requirement).name.lower().replace("_", "-").replace(".", "-")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    (built,) = out.glob("gme_tui-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_packs_themes_and_tcss(wheel):
    names = wheel.namelist()
    themes = [p.relative_to(ROOT / "themes").as_posix() for p in (ROOT / "themes").rglob("*") if p.is_file()]
    assert themes
    for theme in themes:
        assert f"gme_tui/themes/{theme}" in names
    assert "gme_tui/tui/app.tcss" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "gme-tui = gme_tui.__main__:entry" in wheel.read(entry_points).decode()


def test_the_wheel_publishes_no_dev_tool(wheel):
    metadata = email.message_from_bytes(
        wheel.read(next(n for n in wheel.namelist() if n.endswith("/METADATA")))
    )
    assert metadata["Version"] == gme_tui.__version__
    assert metadata.get_all("Provides-Extra") is None
    required = {_name(r) for r in metadata.get_all("Requires-Dist") or []}
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    dev_tools = {_name(r) for r in groups["dev"]}
    assert {"pytest", "ruff", "mypy", "import-linter", "hatchling"} <= dev_tools
    assert not required & dev_tools, f"dev tools published as dependencies: {sorted(required & dev_tools)}"
    assert {"textual", "httpx", "keyring", "pyyaml", "platformdirs"} <= required


def test_the_installed_version_is_the_one_in_the_package():
    assert importlib.metadata.version("gme-tui") == gme_tui.__version__
