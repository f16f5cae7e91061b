"""The headless core stays free of Textual, so scripts start fast and the core stays reusable."""

from __future__ import annotations

import subprocess
import sys

HEADLESS = [
    "gme_tui.api.fields", "gme_tui.api.actions", "gme_tui.api.signing", "gme_tui.api.client",
    "gme_tui.api.errors", "gme_tui.history", "gme_tui.calls", "gme_tui.paths", "gme_tui.credentials",
    "gme_tui.cli", "gme_tui.cli_output", "gme_tui.emulator", "gme_tui.settings",
]


def test_headless_modules_never_load_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(len(loaded), loaded[:3])\n"
        "assert 'gme_tui.api.client' in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("0 "), run.stdout


def test_the_api_layer_touches_no_disk_or_ui_module():
    code = (
        "import sys\n"
        "import gme_tui.api.client, gme_tui.api.fields, gme_tui.api.actions, gme_tui.api.errors\n"
        "bad = [m for m in ('gme_tui.history', 'gme_tui.paths', 'gme_tui.cli', 'sqlite3', 'textual')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
