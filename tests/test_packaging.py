"""The wheel carries what the app needs at run time: themes and stylesheets."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_packs_themes_and_tcss(tmp_path):
    run = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    (wheel,) = tmp_path.glob("gme_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    themes = [p.relative_to(ROOT / "themes").as_posix() for p in (ROOT / "themes").rglob("*") if p.is_file()]
    assert themes
    for theme in themes:
        assert f"gme_tui/themes/{theme}" in names
    assert "gme_tui/tui/app.tcss" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "gme-tui = gme_tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
