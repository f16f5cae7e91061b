"""The scripts the README points to keep working as the app changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_screenshot_script_takes_the_readme_picture(tmp_path):
    output = tmp_path / "shot.svg"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GME_TUI_", "TENCENTCLOUD_", "TEXTUAL"))}
    env["HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshot.py"), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {output} (TaskId ")
    svg = output.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "StartRecord&#160;ok" in svg and "DEMO" in svg
