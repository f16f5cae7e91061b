#!/usr/bin/env python3
"""Set up `.venv` and run gme-tui, its checks, its tests or its benchmarks.

    python3 dev.py demo          the app against the built-in emulator
    python3 dev.py check [ARGS]  lint, format, types, import contracts, then the tests (ARGS go to pytest)
    python3 dev.py test [ARGS]   the test suite alone (ARGS go to pytest)
    python3 dev.py app [ARGS]    gme-tui with your ARGS
    python3 dev.py bench NAME    a script in benchmarks/

Needs python3 with its venv module (Debian/Ubuntu: the python3-venv package).
Everything is installed by package name with the venv's pip: gme-tui itself
(editable) and the `dev` dependency group of pyproject.toml. It reinstalls only
when pyproject.toml or the version in gme_tui/__init__.py changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("GME_TUI_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
# `pip install --group` (PEP 735 dependency groups) arrived in pip 25.1.
PIP_WITH_GROUPS = (25, 1)
LINTED = ["gme_tui", "tests", "benchmarks", "scripts", "dev.py"]


def _run(*cmd: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def _fail(message: str) -> NoReturn:
    print(f"dev.py: {message}", file=sys.stderr)
    sys.exit(1)


def _make_venv() -> None:
    made = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if made.returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)  # a half-made venv without pip would be taken as ready next time
    if subprocess.run([sys.executable, "-c", "import ensurepip"], capture_output=True).returncode != 0:
        _fail(
            "`python3 -m venv` needs ensurepip, which this Python lacks: install the OS package "
            "python3-venv (Debian/Ubuntu: apt-get install python3-venv)"
        )
    lines = (made.stderr or made.stdout).strip().splitlines()
    _fail(f"`python3 -m venv {VENV}` failed (exit {made.returncode}): {lines[-1] if lines else 'no message'}")


def _pip_version() -> tuple[int, ...]:
    shown = subprocess.run([str(PYTHON), "-m", "pip", "--version"], capture_output=True, text=True)
    found = re.match(r"pip (\d+)\.(\d+)", shown.stdout)
    if shown.returncode != 0 or found is None:
        _fail(f"{VENV} has no working pip; delete it and run dev.py again")
    return tuple(int(part) for part in found.groups())


def _stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update((ROOT / "gme_tui" / "__init__.py").read_bytes())  # the version hatch reads
    return digest.hexdigest()


def ensure_venv() -> None:
    digest = _stamp()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        _make_venv()
    quiet = ["--quiet", "--disable-pip-version-check"]
    if _pip_version() < PIP_WITH_GROUPS:
        print("dev.py: upgrading pip in .venv (dependency groups need pip 25.1) ...", file=sys.stderr)
        _run(PYTHON, "-m", "pip", "install", *quiet, "--upgrade", "pip")
    print("dev.py: installing gme-tui and its dev group into .venv ...", file=sys.stderr)
    _run(PYTHON, "-m", "pip", "install", *quiet, "-e", ROOT, "--group", "dev")  # cwd: ROOT
    stamp.write_text(digest)


def check(pytest_args: list[str]) -> int:
    """Each step in turn; the first that fails ends the run with its exit code."""
    steps: list[tuple[str, list[object]]] = [
        ("ruff check", [BIN / "ruff", "check", *LINTED]),
        ("ruff format --check", [BIN / "ruff", "format", "--check", *LINTED]),
        ("mypy", [BIN / "mypy"]),
        ("lint-imports", [BIN / "lint-imports"]),
        ("pytest", [PYTHON, "-m", "pytest", *pytest_args]),
    ]
    for name, cmd in steps:
        print(f"dev.py check: {name}", flush=True)
        code = subprocess.run([str(c) for c in cmd]).returncode
        if code != 0:
            print(f"dev.py check: {name} failed (exit {code})", file=sys.stderr, flush=True)
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "check", "test", "app", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "check":
        return check(rest)
    if command == "demo":
        cmd = [BIN / "gme-tui", "--demo", *rest]
    elif command == "app":
        cmd = [BIN / "gme-tui", *rest]
    elif command == "test":
        cmd = [PYTHON, "-m", "pytest", *rest]
    else:
        if not rest:
            names = ", ".join(sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem[0] != "_"))
            print(f"dev.py bench NAME: one of {names}", file=sys.stderr)
            return 2
        cmd = [PYTHON, ROOT / "benchmarks" / f"{rest[0]}.py", *rest[1:]]
    return subprocess.run([str(c) for c in cmd]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
