#!/usr/bin/env python3
"""Set up `.venv` and run gme-tui, its tests or its benchmarks.

    python3 dev.py demo          the app against the built-in emulator
    python3 dev.py test [ARGS]   the test suite (ARGS go to pytest)
    python3 dev.py app [ARGS]    gme-tui with your ARGS
    python3 dev.py bench NAME    a script in benchmarks/

Needs only python3: where Debian's python3-venv (ensurepip) is missing, it makes
the environment without pip and fetches pip from PyPI. It reinstalls only when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("GME_TUI_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _run(*cmd: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True)


def _bootstrap_pip() -> None:
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as answer:
        release = json.load(answer)
    wheel = next(u for u in release["urls"] if u["filename"].endswith(".whl"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as answer:
            path.write_bytes(answer.read())
        _run(PYTHON, path / "pip", "install", "--quiet", path)


def ensure_venv() -> None:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        made = subprocess.run([sys.executable, "-m", "venv", VENV], capture_output=True)
        if made.returncode != 0:
            print("dev.py: no ensurepip here; making the environment without pip", file=sys.stderr)
            _run(sys.executable, "-m", "venv", "--clear", "--without-pip", VENV)
    if subprocess.run([PYTHON, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        _bootstrap_pip()
    print("dev.py: installing gme-tui and its test tools into .venv ...", file=sys.stderr)
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f"{ROOT}[test]")
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "app", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "demo":
        cmd = [BIN / "gme-tui", "--demo", *rest]
    elif command == "app":
        cmd = [BIN / "gme-tui", *rest]
    elif command == "test":
        cmd = [PYTHON, "-m", "pytest", *rest]
    else:
        if not rest:
            print("dev.py bench NAME: one of " + ", ".join(p.stem for p in (ROOT / "benchmarks").glob("*.py")),
                  file=sys.stderr)
            return 2
        cmd = [PYTHON, ROOT / "benchmarks" / f"{rest[0]}.py", *rest[1:]]
    return subprocess.run([str(c) for c in cmd]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
